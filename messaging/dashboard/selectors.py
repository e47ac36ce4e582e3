"""Reads behind the dashboard: the delivery and read rates, and the daily chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from messaging.models import Contact, Message
from projects.models import Project


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


# A cancelled blast's messages never went out: neither sent nor failed, out of every rate.
_OUT = Q(direction=Message.Direction.OUTGOING) & ~Q(status=Message.Status.CANCELLED)
_OUTGOING_COUNTS = {
    "outgoing": Count("id", filter=_OUT),
    "delivered": Count(
        "id", filter=_OUT & Q(status__in=[Message.Status.DELIVERED, Message.Status.READ])
    ),
    "read": Count("id", filter=_OUT & Q(status=Message.Status.READ)),
    "failed": Count("id", filter=_OUT & Q(status=Message.Status.FAILED)),
}


def dashboard_stats(*, project: Project, days: int = 30) -> DashboardStats:
    """Delivery and read rates of the last `days` days, in one query on messages."""
    since = timezone.now() - timedelta(days=days)
    counts = Message.objects.filter(project=project, created_at__gte=since).aggregate(
        **_OUTGOING_COUNTS,
        incoming=Count("id", filter=Q(direction=Message.Direction.INCOMING)),
    )
    return DashboardStats(
        days=days, contacts=Contact.objects.filter(project=project).count(), **counts
    )


@dataclass(frozen=True)
class TemplateStats:
    template_name: str
    outgoing: int
    delivered: int
    read: int
    failed: int

    @property
    def delivery_rate(self) -> float:
        return self.delivered / self.outgoing if self.outgoing else 0.0

    @property
    def read_rate(self) -> float:
        return self.read / self.outgoing if self.outgoing else 0.0


def dashboard_stats_by_template(*, project: Project, days: int = 30) -> list[TemplateStats]:
    """The dashboard's outgoing figures of the last `days` days for each template sent, by name."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Message.objects.filter(
            project=project,
            created_at__gte=since,
            kind__in=[Message.Kind.HSM, Message.Kind.HSM_MEDIA],
        )
        .exclude(template_name="")
        .values("template_name")
        .annotate(**_OUTGOING_COUNTS)
        .order_by("template_name")
    )
    return [TemplateStats(**row) for row in rows if row["outgoing"]]


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
        .exclude(status=Message.Status.CANCELLED)  # never sent: not a bar of the chart
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
