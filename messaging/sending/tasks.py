"""Celery tasks of sending: thin, by id, each calling one service.

Each task has a fixed `name=`, the one it had when all tasks lived in
`messaging/tasks.py`: the broker and the beat schedule know a task by it, so
moving the code never strands a queued task.
"""

from __future__ import annotations

from celery import shared_task

from messaging.sending import delivery, engine, services

# The scheduled first look at an `unknown` message, after its send timed out.
SETTLE_FIRST_LOOK_SECONDS = 60


@shared_task(
    name="messaging.messages_dispatch", acks_late=True, soft_time_limit=120, time_limit=150
)
def messages_dispatch_task(integration_id: int, slot: int = 0) -> dict:
    """Send an integration's queued messages (see messaging/sending/engine.py)."""
    report = engine.messages_dispatch(integration_id=integration_id, slot=slot)
    return {"sent": report.sent, "failed": report.failed, "retried": report.retried}


@shared_task(name="messaging.messages_sending_sweep")
def messages_sending_sweep() -> dict:
    """Every few seconds: wake integrations with due messages, settle sends a dead worker left."""
    return engine.messages_sending_sweep()


@shared_task(name="messaging.tasks.message_settle", acks_late=True)
def message_settle(message_id: int) -> None:
    delivery.message_settle(message_id=message_id)


@shared_task(name="messaging.tasks.messages_settle_unknown")
def messages_settle_unknown() -> int:
    """Every few minutes: settle each message whose outcome we do not know (see message_settle)."""
    return delivery.messages_settle_unknown()


@shared_task(name="messaging.tasks.idempotency_records_prune")
def idempotency_records_prune() -> int:
    """Daily: forget Idempotency-Keys older than a day (a client retries within minutes, not days)."""
    return services.idempotency_records_prune()


@shared_task(name="messaging.tasks.wappin_call_logs_prune")
def wappin_call_logs_prune() -> int:
    """Nightly: forget old calls to Wappin (`WAPPIN_CALL_LOG_RETENTION_DAYS`)."""
    return services.wappin_call_logs_prune()
