"""The Celery tasks of messaging, for the worker to find: they live in its packages.

Celery's autodiscovery imports `<app>.tasks` only; importing the packages' task
modules here registers their tasks. Each task keeps a fixed `name=` (the name it
had when all of them lived in this module), so the broker, the beat schedule
(`CELERY_BEAT_SCHEDULE`) and queued tasks keep finding it wherever its code moves.
"""

from messaging.blasts.tasks import blast_expand, blasts_resume_stalled, blasts_tick
from messaging.dashboard.tasks import message_counts_squash_task
from messaging.sending.tasks import (
    idempotency_records_prune,
    message_settle,
    messages_dispatch_task,
    messages_sending_sweep,
    messages_settle_unknown,
)

__all__ = [
    "blast_expand",
    "blasts_resume_stalled",
    "blasts_tick",
    "idempotency_records_prune",
    "message_counts_squash_task",
    "message_settle",
    "messages_dispatch_task",
    "messages_sending_sweep",
    "messages_settle_unknown",
]
