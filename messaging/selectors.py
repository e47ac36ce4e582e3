"""Reads on messages and contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
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
