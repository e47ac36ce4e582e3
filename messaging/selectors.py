"""Reads on messages and contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from messaging.models import Contact, Message, MessageStatusEvent
from projects.models import Project
from wappin_portal.errors import NotFound, ValidationFailed
from wappin_portal.phone import phone_normalize


@dataclass(frozen=True)
class DashboardStats:
    days: int
    outgoing: int
    delivered: int
    read: int
    failed: int
    incoming: int
    contacts: int

    @property
    def delivery_rate(self) -> float:
        return self.delivered / self.outgoing if self.outgoing else 0.0

    @property
    def read_rate(self) -> float:
        return self.read / self.outgoing if self.outgoing else 0.0


def dashboard_stats(*, project: Project, days: int = 30) -> DashboardStats:
    """Delivery and read rates of the last `days` days, in one query on messages."""
    since = timezone.now() - timedelta(days=days)
    out = Q(direction=Message.Direction.OUTGOING)
    counts = Message.objects.filter(project=project, created_at__gte=since).aggregate(
        outgoing=Count("id", filter=out),
        delivered=Count("id", filter=out & Q(status__in=[Message.Status.DELIVERED, Message.Status.READ])),
        read=Count("id", filter=out & Q(status=Message.Status.READ)),
        failed=Count("id", filter=out & Q(status=Message.Status.FAILED)),
        incoming=Count("id", filter=Q(direction=Message.Direction.INCOMING)),
    )
    return DashboardStats(days=days, contacts=Contact.objects.filter(project=project).count(), **counts)


# --- message history --------------------------------------------------------------------

MESSAGE_FILTERS = (
    "status", "direction", "kind", "source", "template", "number", "date_from", "date_to", "blast",
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
                f"'{text}' is not a date: use YYYY-MM-DD or an ISO date and time.",
                field=field,
                code="date_invalid",
            )
    if isinstance(value, date) and value.year not in MOMENT_YEARS:
        # Year 1 or 9999 overflows once moved to UTC or to the next day.
        raise ValidationFailed(
            f"'{value.isoformat()}' is out of range: use a year from {MOMENT_YEARS.start} "
            f"to {MOMENT_YEARS.stop - 1}.",
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
    )


def messages_filter(*, queryset: QuerySet[Message], filters: dict | None) -> QuerySet[Message]:
    """`message_list`'s filters on a queryset the caller has already limited to one project."""
    filters = {key: value for key, value in (filters or {}).items() if value not in (None, "")}
    for field in ("status", "direction", "kind", "source"):
        if field in filters:
            queryset = queryset.filter(**{field: filters[field]})
    if "template" in filters:
        queryset = queryset.filter(template_name=str(filters["template"]).strip())
    if "blast" in filters:
        blast_id = int(filters["blast"])
        # An id past 64 bits is no blast's; SQLite cannot even compare with it.
        queryset = queryset.filter(blast_id=blast_id) if 0 < blast_id < 2**63 else queryset.none()
    if "number" in filters:
        raw = str(filters["number"])
        try:
            queryset = queryset.filter(phone_number=phone_normalize(raw, field="number"))
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
            Message.objects.select_related("template", "contact", "integration", "sent_by", "api_key", "blast")
            .prefetch_related(
                Prefetch("status_events", queryset=MessageStatusEvent.objects.order_by("occurred_at", "id"))
            )
            .get(project=project, pk=message_id)
        )
    except (Message.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such message in this project.", code="message_not_found") from exc


# --- contacts ---------------------------------------------------------------------------


def contact_list(*, project: Project, filters: dict | None = None) -> QuerySet[Contact]:
    """A project's contacts; `search` matches name or number, `opted_out` true/false, `group` id."""
    filters = {key: value for key, value in (filters or {}).items() if value not in (None, "")}
    queryset = Contact.objects.filter(project=project).prefetch_related("groups")
    if "search" in filters:
        text = str(filters["search"]).strip()
        digits = "".join(ch for ch in text if ch.isdigit()).lstrip("0")
        condition = Q(name__icontains=text)
        if digits:
            condition |= Q(phone_number__contains=digits)
        queryset = queryset.filter(condition)
    if "opted_out" in filters:
        opted_out = str(filters["opted_out"]).lower() in ("1", "true", "yes")
        queryset = queryset.filter(opted_out_at__isnull=not opted_out)
    if "group" in filters:
        queryset = queryset.filter(groups__pk=filters["group"])
    return queryset


def contact_get(*, project: Project, contact_id: int) -> Contact:
    try:
        return Contact.objects.prefetch_related("groups").get(project=project, pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such contact in this project.", code="contact_not_found") from exc
