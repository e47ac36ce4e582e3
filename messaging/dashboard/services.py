"""Writes behind the dashboard: folding the message counts' delta rows."""

from __future__ import annotations

from collections import defaultdict
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from messaging.models import MessageDailyCount

SQUASH_LOCK_KEY = "message-counts-squash"
# (project, day) pairs folded per transaction: each holds a few dozen rows.
SQUASH_BATCH = 200


def message_counts_squash(*, max_batches: int = 100) -> int:
    """Fold each (project, day)'s delta rows into one row per key; returns the rows removed.

    A key's figure is the sum of its rows, so folding never changes a figure: the rows read
    here are locked, deleted and replaced by their sums in one transaction, and the deltas
    the triggers add meanwhile are other rows, left for the next run. One squasher at a time
    (a cache lock) so two workers don't wait on each other's rows.
    """
    if not cache.add(SQUASH_LOCK_KEY, "1", timeout=300):
        return 0
    removed = 0
    try:
        for _ in range(max_batches):
            folded = _squash_batch()
            if folded is None:
                break
            removed += folded
    finally:
        cache.delete(SQUASH_LOCK_KEY)
    return removed


def _squash_batch() -> int | None:
    with transaction.atomic():
        pairs = list(
            MessageDailyCount.objects.filter(squashed=False)
            .values_list("project_id", "day")
            .distinct()
            .order_by()[:SQUASH_BATCH]
        )
        if not pairs:
            return None
        rows = list(
            MessageDailyCount.objects.select_for_update()
            .filter(reduce(or_, (Q(project_id=project, day=day) for project, day in pairs)))
            .values_list("id", "project_id", "day", "template_id", "direction", "status", "count")
        )
        sums: dict[tuple, int] = defaultdict(int)
        for _id, *key, count in rows:
            sums[tuple(key)] += count
        MessageDailyCount.objects.filter(id__in=[row[0] for row in rows]).delete()
        MessageDailyCount.objects.bulk_create(
            MessageDailyCount(
                project_id=project,
                day=day,
                template_id=template,
                direction=direction,
                status=status,
                count=total,
                squashed=True,
            )
            for (project, day, template, direction, status), total in sums.items()
            if total
        )
        return len(rows) - sum(1 for total in sums.values() if total)
