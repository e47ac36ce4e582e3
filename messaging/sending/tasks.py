"""Celery tasks of sending: thin, by id, each calling one service.

Each task has a fixed `name=`, the one it had when all tasks lived in
`messaging/tasks.py`: the broker and the beat schedule know a task by it, so
moving the code never strands a queued task.
"""

from __future__ import annotations

import random

from celery import shared_task

from messaging.sending import delivery, services
from messaging.wappin.exceptions import WappinError

SEND_MAX_RETRIES = 5
# The scheduled first look at an `unknown` message, after its send timed out.
SETTLE_FIRST_LOOK_SECONDS = 60


def retry_countdown(retries: int) -> float:
    """2, 4, 8, 16, 32 s, each with up to a second of jitter so retries of a burst spread out."""
    return 2 ** (retries + 1) + random.uniform(0, 1)  # noqa: S311 - jitter, not a secret


@shared_task(name="messaging.tasks.message_send", bind=True, max_retries=SEND_MAX_RETRIES, acks_late=True)
def message_send(self, message_id: int, attempt: int = 0) -> None:
    """Send one queued message; retry Wappin's outages with backoff, give up with a reason."""
    try:
        delivery.message_deliver(message_id=message_id, attempt=attempt)
    except WappinError as exc:
        if not exc.retryable:
            raise
        if self.request.retries >= self.max_retries:
            delivery.message_send_give_up(
                message_id=message_id,
                reason=(
                    f"Wappin could not be reached after {self.request.retries + 1} attempts "
                    f"(last error: {exc.message})."
                ),
                failure_code=exc.wappin_status or "unavailable",
            )
            return
        raise self.retry(
            exc=exc, countdown=retry_countdown(self.request.retries), kwargs={"attempt": attempt + 1}
        ) from exc


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
