"""Celery tasks of blasts: thin, by id, each calling one service (names fixed: see `messaging.tasks`).

They run on the `blasts` queue (CELERY_TASK_ROUTES), so a blast's expansion never waits
behind the sending engine's dispatchers, nor they behind it.
"""

from __future__ import annotations

import random

from django.db import OperationalError

from celery import shared_task

from messaging.blasts import services

EXPAND_MAX_RETRIES = 5


def retry_countdown(retries: int) -> float:
    """2, 4, 8, 16, 32 s, each with up to a second of jitter so retries of a burst spread out."""
    return 2 ** (retries + 1) + random.uniform(0, 1)  # noqa: S311 - jitter, not a secret


@shared_task(
    name="messaging.tasks.blast_expand", bind=True, max_retries=EXPAND_MAX_RETRIES, acks_late=True
)
def blast_expand(self, blast_id: int) -> None:
    """Queue the next batch of a running blast's messages; the batch enqueues the one after it.

    A batch is one transaction: a database hiccup undoes it whole, and the retry
    starts it again from the blast's cursor (nothing is queued twice).
    """
    try:
        services.blast_expand_batch(blast_id=blast_id)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


@shared_task(name="messaging.tasks.blasts_resume_stalled")
def blasts_resume_stalled() -> int:
    """Every few minutes: a running blast whose batch task was lost goes on from its cursor."""
    return services.blasts_resume_stalled()


@shared_task(name="messaging.tasks.blasts_tick")
def blasts_tick() -> dict[str, int]:
    """Every ~15 s: start the scheduled blasts now due, mark done the ones whose sends are settled."""
    return services.blasts_tick()
