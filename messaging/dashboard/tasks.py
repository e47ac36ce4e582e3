from __future__ import annotations

from celery import shared_task

from messaging.dashboard.services import message_counts_squash


@shared_task(name="messaging.tasks.message_counts_squash")
def message_counts_squash_task() -> int:
    return message_counts_squash()
