"""Celery tasks of messaging: thin, by id, each calling one service."""

from __future__ import annotations

import logging
import random

from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone

from celery import shared_task

from messaging import blasts, services
from messaging.models import Message
from messaging.sending import engine

logger = logging.getLogger(__name__)

SEND_MAX_RETRIES = 5
# The scheduled first look at an `unknown` message, after its send timed out.
SETTLE_FIRST_LOOK_SECONDS = 60
# At most this many messages per sweep: a stuck blast must not make one sweep run for hours.
SETTLE_BATCH = 500


def retry_countdown(retries: int) -> float:
    """2, 4, 8, 16, 32 s, each with up to a second of jitter so retries of a burst spread out."""
    return 2 ** (retries + 1) + random.uniform(0, 1)  # noqa: S311 - jitter, not a secret


@shared_task(name="messaging.messages_dispatch", acks_late=True, soft_time_limit=120, time_limit=150)
def messages_dispatch_task(integration_id: int, slot: int = 0) -> dict:
    """Send an integration's queued messages (see messaging/sending/engine.py)."""
    report = engine.messages_dispatch(integration_id=integration_id, slot=slot)
    return {"sent": report.sent, "failed": report.failed, "retried": report.retried}


@shared_task(name="messaging.messages_sending_sweep")
def messages_sending_sweep() -> dict:
    """Every few seconds: wake integrations with due messages, settle sends a dead worker left."""
    return engine.messages_sending_sweep()


@shared_task(acks_late=True)
def message_settle(message_id: int) -> None:
    services.message_settle(message_id=message_id)


@shared_task
def messages_settle_unknown() -> int:
    """Every few minutes: settle each message whose outcome we do not know (see message_settle)."""
    stale_queued = timezone.now() - services.QUEUED_STALE_AFTER
    ids = list(
        Message.objects.filter(direction=Message.Direction.OUTGOING)
        .filter(
            Q(status=Message.Status.UNKNOWN)
            | Q(status=Message.Status.QUEUED, updated_at__lt=stale_queued)
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:SETTLE_BATCH]
    )
    for message_id in ids:
        try:
            services.message_settle(message_id=message_id)
        except Exception:
            # One message Wappin cannot answer about must not stop the others.
            logger.exception("could not settle message %s", message_id)
    return len(ids)


@shared_task
def idempotency_records_prune() -> int:
    """Daily: forget Idempotency-Keys older than a day (a client retries within minutes, not days)."""
    return services.idempotency_records_prune()


@shared_task(bind=True, max_retries=SEND_MAX_RETRIES, acks_late=True)
def blast_expand(self, blast_id: int) -> None:
    """Queue the next batch of a running blast's messages; the batch enqueues the one after it.

    A batch is one transaction: a database hiccup undoes it whole, and the retry
    starts it again from the blast's cursor (nothing is queued twice).
    """
    try:
        blasts.blast_expand_batch(blast_id=blast_id)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


@shared_task
def blasts_resume_stalled() -> int:
    """Every few minutes: a running blast whose batch task was lost goes on from its cursor."""
    return blasts.blasts_resume_stalled()
