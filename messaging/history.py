"""Reads behind the history pages and the dashboard chart.

Which messages: `messaging.selectors.message_list` (its filters, once). How they
are paged here: keyset ("older"/"newer" from a cursor on created_at, id), never OFFSET
or COUNT(*): a page costs the same on the first day and on a table of millions,
riding the (project, -created_at, -id) index.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from messaging.contacts.services import csv_safe
from messaging.models import Message
from projects.models import Project

PAGE_SIZE = 50


def cursor_encode(message: Message) -> str:
    raw = f"{message.created_at.isoformat()}|{message.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int] | None:
    """(created_at, id) from a cursor, or None for a cursor that is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        created_at = datetime.fromisoformat(stamp)
        message_id = int(pk)
        # Ours are aware, of a year a database can compare with, and a positive 64-bit id.
        if created_at.tzinfo is None or not 1900 <= created_at.year < 3000 or not 0 < message_id < 2**63:
            return None
        return created_at, message_id
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class MessagePage:
    messages: list[Message] = field(default_factory=list)
    older_cursor: str = ""
    newer_cursor: str = ""


def message_page(
    *, messages: QuerySet[Message], after: str = "", before: str = "", size: int = PAGE_SIZE
) -> MessagePage:
    """One page of `messages` (newest first): older than `after`, or newer than `before`."""
    messages = messages.select_related("sent_by", "api_key")
    older_than = cursor_decode(after) if after else None
    newer_than = cursor_decode(before) if before and not older_than else None
    if newer_than:
        created_at, pk = newer_than
        rows = list(
            messages.filter(created_at__gte=created_at)
            .exclude(created_at=created_at, id__lte=pk)
            .order_by("created_at", "id")[: size + 1]
        )
        has_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_older = True
    else:
        if older_than:
            created_at, pk = older_than
            messages = messages.filter(created_at__lte=created_at).exclude(
                created_at=created_at, id__gte=pk
            )
        rows = list(messages[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = older_than is not None
    page = MessagePage(messages=rows)
    if rows and has_older:
        page.older_cursor = cursor_encode(rows[-1])
    if rows and has_newer:
        page.newer_cursor = cursor_encode(rows[0])
    return page


EXPORT_COLUMNS = [
    "id", "created_at", "direction", "kind", "status", "phone_number", "template_name",
    "language_code", "params", "text", "caption", "source", "sent_by", "wappin_message_id",
    "failure_code", "failure_reason", "sent_at", "delivered_at", "read_at", "failed_at",
]


def _stamp(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def message_export_rows(*, messages: QuerySet[Message]) -> Iterator[list[str]]:
    """Header and one row per message, read in chunks so a large export never sits in memory."""
    yield EXPORT_COLUMNS
    rows = messages.select_related("sent_by", "api_key").iterator(chunk_size=2000)
    for message in rows:
        who = (
            message.sent_by.get_username() if message.sent_by
            else f"API key {message.api_key.name}" if message.api_key
            else message.get_source_display()
        )
        params = " | ".join(f"{{{{{k}}}}}={v}" for k, v in sorted((message.params or {}).items()))
        yield [
            str(message.pk), _stamp(message.created_at), message.direction, message.kind,
            message.status, message.phone_number, csv_safe(message.template_name),
            message.language_code, csv_safe(params), csv_safe(message.text),
            csv_safe(message.caption), message.source, csv_safe(who), message.wappin_message_id,
            message.failure_code, csv_safe(message.failure_reason), _stamp(message.sent_at),
            _stamp(message.delivered_at), _stamp(message.read_at), _stamp(message.failed_at),
        ]


CHART_STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class ChartDay:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def message_daily_counts(*, project: Project, days: int = 14) -> list[ChartDay]:
    """Outgoing messages per day (local time) and status over the last `days` days, oldest first.

    'sent' counts messages that got no further than sent (and queued/unknown ones),
    so each bar's segments add up to the day's outgoing messages.
    """
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        Message.objects.filter(
            project=project, direction=Message.Direction.OUTGOING, created_at__gte=since
        )
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "status")
        .annotate(total=Count("id"))
        .order_by()
    )
    by_day: dict[date, dict[str, int]] = {
        first + timedelta(days=offset): dict.fromkeys(CHART_STATUSES, 0) for offset in range(days)
    }
    for row in rows:
        status = row["status"] if row["status"] in CHART_STATUSES else "sent"
        if row["day"] in by_day:
            by_day[row["day"]][status] += row["total"]
    return [ChartDay(day=day, counts=counts) for day, counts in by_day.items()]
