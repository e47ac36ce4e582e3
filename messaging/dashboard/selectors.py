"""Reads behind the dashboard: the period's figures, per template, and the daily chart.

Every figure comes from `MessageDailyCount` (kept by database triggers, see
`messaging.dashboard.triggers`), never from scanning the messages: a project's 30 days are a
few hundred count rows (days x templates x statuses) whatever its millions of messages.
Days are the portal's `TIME_ZONE` days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from messaging.models import Contact, Message, MessageDailyCount, OptOut
from projects.models import Project
from templates_app.models import Template

OUT = Message.Direction.OUTGOING
IN = Message.Direction.INCOMING
S = Message.Status


@dataclass(frozen=True)
class Period:
    """Whole local days, `first` to `last` included."""

    first: date
    last: date

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(first=today - timedelta(days=days - 1), last=today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def until(self) -> datetime:
        return datetime.combine(
            self.last + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
        )


@dataclass(frozen=True)
class StatusCounts:
    """Outgoing messages by status; `outgoing` leaves out the cancelled (never sent)."""

    by_status: dict[str, int] = field(default_factory=dict)

    def _get(self, *statuses: str) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses)

    @property
    def outgoing(self) -> int:
        return sum(n for status, n in self.by_status.items() if status != S.CANCELLED)

    @property
    def delivered(self) -> int:
        return self._get(S.DELIVERED, S.READ)

    @property
    def read(self) -> int:
        return self._get(S.READ)

    @property
    def failed(self) -> int:
        return self._get(S.FAILED)

    @property
    def cancelled(self) -> int:
        return self._get(S.CANCELLED)

    @property
    def pending(self) -> int:
        return self._get(S.QUEUED, S.SENDING, S.UNKNOWN)

    @property
    def delivery_rate(self) -> float:
        return self.delivered / self.outgoing if self.outgoing else 0.0

    @property
    def read_rate(self) -> float:
        return self.read / self.outgoing if self.outgoing else 0.0


@dataclass(frozen=True)
class DashboardStats(StatusCounts):
    period: Period | None = None
    incoming: int = 0
    contacts: int = 0

    @property
    def days(self) -> int:
        return self.period.days if self.period else 0


@dataclass(frozen=True)
class TemplateStats(StatusCounts):
    template_id: int | None = None
    name: str = ""
    # Customers who sent STOP within days of receiving it (`OptOut.after_template`).
    opt_outs: int = 0


def _counts(*, project: Project, period: Period):
    return MessageDailyCount.objects.filter(
        project_id=project.pk, day__gte=period.first, day__lte=period.last
    )


def dashboard_stats(
    *, project: Project, days: int = 30, period: Period | None = None
) -> DashboardStats:
    """The period's outgoing messages by status, messages received, and the contacts."""
    period = period or Period.last_days(days)
    rows = (
        _counts(project=project, period=period)
        .values("direction", "status")
        .annotate(total=Sum("count"))
        .order_by()
    )
    by_status: dict[str, int] = defaultdict(int)
    incoming = 0
    for row in rows:
        if row["direction"] == IN:
            incoming += row["total"]
        else:
            by_status[row["status"]] += row["total"]
    return DashboardStats(
        by_status=dict(by_status),
        period=period,
        incoming=incoming,
        contacts=Contact.objects.filter(project=project).count(),
    )


def template_stats(*, project: Project, period: Period) -> list[TemplateStats]:
    """Outgoing messages per template over the period, most sent first.

    Messages without a template (texts, media, a deleted template's) are one row, named "".
    """
    rows = (
        _counts(project=project, period=period)
        .filter(direction=OUT)
        .values("template_id", "status")
        .annotate(total=Sum("count"))
        .order_by()
    )
    by_template: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row["total"]:
            by_template[row["template_id"]][row["status"]] += row["total"]
    opt_outs = dict(
        OptOut.objects.filter(
            project=project,
            created_at__gte=period.since,
            created_at__lt=period.until,
            after_template__isnull=False,
        )
        .values("after_template")
        .annotate(total=Count("id"))
        .values_list("after_template", "total")
        .order_by()
    )
    for pk in opt_outs:
        by_template.setdefault(pk, defaultdict(int))
    names = dict(
        Template.objects.filter(
            project=project, pk__in=[pk for pk in by_template if pk is not None]
        ).values_list("pk", "name")
    )
    stats = [
        TemplateStats(
            by_status=dict(counts),
            template_id=pk,
            name=names.get(pk, ""),
            opt_outs=opt_outs.get(pk, 0),
        )
        for pk, counts in by_template.items()
    ]
    return sorted(stats, key=lambda row: (-row.outgoing, row.name))


CHART_STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class ChartDay:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def message_daily_counts(
    *, project: Project, days: int = 14, period: Period | None = None
) -> list[ChartDay]:
    """Outgoing messages per local day and status over the period, oldest first.

    'sent' counts messages that got no further than sent (and queued/unknown ones),
    so each bar's segments add up to the day's outgoing messages. Cancelled messages were
    never sent: not a bar of the chart.
    """
    period = period or Period.last_days(days)
    rows = (
        _counts(project=project, period=period)
        .filter(direction=OUT)
        .exclude(status=S.CANCELLED)
        .values("day", "status")
        .annotate(total=Sum("count"))
        .order_by()
    )
    by_day: dict[date, dict[str, int]] = {
        period.first + timedelta(days=offset): dict.fromkeys(CHART_STATUSES, 0)
        for offset in range(period.days)
    }
    for row in rows:
        status = row["status"] if row["status"] in CHART_STATUSES else "sent"
        if row["day"] in by_day:
            by_day[row["day"]][status] += row["total"]
    return [ChartDay(day=day, counts=counts) for day, counts in by_day.items()]
