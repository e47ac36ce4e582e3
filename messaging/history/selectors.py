"""Reads behind the message history: which messages (filters), one message, pages, the CSV export.

Which messages: `message_list` (its filters, once, for the pages and the API).
How the pages page them: keyset ("older"/"newer" from a cursor on created_at, id),
never OFFSET or COUNT(*): a page costs the same on the first day and on a table
of millions, riding the (project, -created_at, -id) index.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from messaging.models import Message, MessageStatusEvent, WappinCallLog
from projects.models import Project
from wappin_portal.csv_export import csv_safe
from wappin_portal.errors import NotFound, ValidationFailed
from wappin_portal.phone import DEFAULT_REGION, phone_normalize

MESSAGE_FILTERS = (
    "status",
    "direction",
    "kind",
    "source",
    "template",
    "number",
    "date_from",
    "date_to",
    "blast",
)


MOMENT_YEARS = range(1900, 3000)


def _moment(value, *, field: str) -> date | datetime:
    """A date or an aware datetime, from either or from its ISO text."""
    if isinstance(value, str):
        text = value.strip()[:40]
        try:
            # parse_date first: parse_datetime reads a bare "2026-03-10" as its midnight.
            value = parse_date(text) or parse_datetime(text)
        except ValueError:  # well formed but not on the calendar: 2024-13-45, 25:00
            value = None
        if value is None:
            raise ValidationFailed(
                _("'%(text)s' is not a date: use YYYY-MM-DD or an ISO date and time.")
                % {"text": text},
                field=field,
                code="date_invalid",
            )
    if isinstance(value, date) and value.year not in MOMENT_YEARS:
        # Year 1 or 9999 overflows once moved to UTC or to the next day.
        raise ValidationFailed(
            _("'%(value)s' is out of range: use a year from %(first)d to %(last)d.")
            % {
                "value": value.isoformat(),
                "first": MOMENT_YEARS.start,
                "last": MOMENT_YEARS.stop - 1,
            },
            field=field,
            code="date_invalid",
        )
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, date):
        return value
    raise ValidationFailed(f"'{value}' is not a date.", field=field, code="date_invalid")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def message_list(*, project: Project, filters: dict | None = None) -> QuerySet[Message]:
    """A project's messages, newest first, narrowed by `filters` (empty values are ignored).

    Filters: `status`, `direction`, `kind`, `source`, `template` (name), `blast` (id), `number`
    (normalised; a partial number matches as a substring), `date_from`, `date_to`
    (dates are whole days in the portal's time zone: `date_to` includes its day).
    The order (-created_at, -id) matches the `message_project_recent` index, so
    cursor pagination over it stays fast on millions of rows.
    """
    return messages_filter(
        queryset=Message.objects.filter(project=project).select_related("template", "contact"),
        filters=filters,
        region=project.default_region,
    )


def messages_filter(
    *, queryset: QuerySet[Message], filters: dict | None, region: str = DEFAULT_REGION
) -> QuerySet[Message]:
    """`message_list`'s filters on a queryset the caller has already limited to one project.

    `region`: the project's, to read a number typed without its country code.
    """
    filters = {key: value for key, value in (filters or {}).items() if value not in (None, "")}
    for name in ("status", "direction", "kind", "source"):
        if name in filters:
            queryset = queryset.filter(**{name: filters[name]})
    if "template" in filters:
        queryset = queryset.filter(template_name=str(filters["template"]).strip())
    if "blast" in filters:
        blast_id = int(filters["blast"])
        # An id past 64 bits is no blast's; SQLite cannot even compare with it.
        queryset = queryset.filter(blast_id=blast_id) if 0 < blast_id < 2**63 else queryset.none()
    if "number" in filters:
        raw = str(filters["number"])
        try:
            queryset = queryset.filter(
                phone_number=phone_normalize(raw, field="number", region=region)
            )
        except ValidationFailed:
            digits = "".join(ch for ch in raw if ch.isdigit())
            if digits.startswith("0"):
                digits = digits[1:]
            queryset = queryset.filter(phone_number__contains=digits) if digits else queryset.none()
    if "date_from" in filters:
        start = _moment(filters["date_from"], field="date_from")
        if not isinstance(start, datetime):
            start = _day_start(start)
        queryset = queryset.filter(created_at__gte=start)
    if "date_to" in filters:
        end = _moment(filters["date_to"], field="date_to")
        if isinstance(end, datetime):
            queryset = queryset.filter(created_at__lte=end)
        else:
            queryset = queryset.filter(created_at__lt=_day_start(end + timedelta(days=1)))
    return queryset.order_by("-created_at", "-id")


def message_get(*, project: Project, message_id: int) -> Message:
    """One message of the project with its timeline; another project's id is simply not found."""
    try:
        return (
            Message.objects.select_related(
                "template", "contact", "integration", "sent_by", "api_key", "blast"
            )
            .prefetch_related(
                Prefetch(
                    "status_events",
                    queryset=MessageStatusEvent.objects.order_by("occurred_at", "id"),
                )
            )
            .get(project=project, pk=message_id)
        )
    except (Message.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such message in this project."), code="message_not_found") from exc


def message_call_logs(*, message: Message, limit: int) -> list[WappinCallLog]:
    """The message's Wappin calls (redacted log rows), at most `limit`."""
    return list(message.call_logs.all()[:limit])


# --- pages ------------------------------------------------------------------------------

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
        if (
            created_at.tzinfo is None
            or not 1900 <= created_at.year < 3000
            or not 0 < message_id < 2**63
        ):
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
    "id",
    "created_at",
    "direction",
    "kind",
    "status",
    "phone_number",
    "template_name",
    "language_code",
    "params",
    "text",
    "caption",
    "source",
    "sent_by",
    "wappin_message_id",
    "failure_code",
    "failure_reason",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
]


def _stamp(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def message_export_rows(*, messages: QuerySet[Message]) -> Iterator[list[str]]:
    """Header and one row per message, read in chunks so a large export never sits in memory."""
    yield EXPORT_COLUMNS
    rows = messages.select_related("sent_by", "api_key").iterator(chunk_size=2000)
    for message in rows:
        who = (
            message.sent_by.get_username()
            if message.sent_by
            else f"API key {message.api_key.name}"
            if message.api_key
            else message.get_source_display()
        )
        params = " | ".join(f"{{{{{k}}}}}={v}" for k, v in sorted((message.params or {}).items()))
        yield [
            str(message.pk),
            _stamp(message.created_at),
            message.direction,
            message.kind,
            message.status,
            message.phone_number,
            csv_safe(message.template_name),
            message.language_code,
            csv_safe(params),
            csv_safe(message.text),
            csv_safe(message.caption),
            message.source,
            csv_safe(who),
            message.wappin_message_id,
            message.failure_code,
            csv_safe(message.failure_reason),
            _stamp(message.sent_at),
            _stamp(message.delivered_at),
            _stamp(message.read_at),
            _stamp(message.failed_at),
        ]


def message_timeline(*, message: Message) -> list[MessageStatusEvent]:
    """The message's steps in the order they happened: by time, but never against the status order.

    Wappin's times have whole seconds, the portal's have microseconds: a `sent` callback at
    13:14:42 read before the portal's own `queued` at 13:14:42.579. A step is placed no
    earlier than the latest step of a lower status rank; within that, by time, rank, id.
    """
    events = list(message.status_events.all())
    rank = Message.STATUS_RANK
    by_rank: dict[int, list[MessageStatusEvent]] = {}
    for event in events:
        by_rank.setdefault(rank.get(event.status, len(rank)), []).append(event)
    placed_at, floor = {}, None
    for step_rank in sorted(by_rank):
        group = by_rank[step_rank]
        for event in group:
            placed_at[event.pk] = (
                event.occurred_at if floor is None else max(event.occurred_at, floor)
            )
        group_latest = max(placed_at[event.pk] for event in group)
        floor = group_latest if floor is None else max(floor, group_latest)
    return sorted(
        events,
        key=lambda event: (placed_at[event.pk], rank.get(event.status, len(rank)), event.pk),
    )
