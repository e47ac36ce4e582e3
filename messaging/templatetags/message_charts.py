"""The dashboard's 14-day chart of outgoing messages per status: inline SVG, no JavaScript."""

from __future__ import annotations

from django import template

from messaging.dashboard.selectors import CHART_STATUSES, Period, message_daily_counts
from projects.models import Project

register = template.Library()

CHART_HEIGHT = 160
BAR_WIDTH = 48
BAR_GAP = 18
# The chart is drawn at no less than this share of its size, so its 22-unit labels stay
# 11 px or more: on a phone it scrolls inside its card instead of shrinking to a blur.
CHART_MIN_SCALE = 0.5
STATUS_COLOURS = {"sent": "#1d5fa8", "delivered": "#d39b00", "read": "#0b6e4f", "failed": "#b3261e"}


@register.inclusion_tag("messaging/_daily_chart.html")
def daily_status_chart(project: Project, period: Period | None = None, days: int = 14) -> dict:
    chart_days = message_daily_counts(project=project, days=days, period=period)
    days = len(chart_days)
    peak = max((day.total for day in chart_days), default=0) or 1
    bars = []
    for index, day in enumerate(chart_days):
        x = index * (BAR_WIDTH + BAR_GAP)
        y = CHART_HEIGHT
        segments = []
        # Stacked bottom-up in the order a message travels: read at the bottom, failed on top.
        for status in ("read", "delivered", "sent", "failed"):
            count = day.counts[status]
            if not count:
                continue
            height = count * CHART_HEIGHT / peak
            y -= height
            segments.append(
                {
                    "status": status,
                    "count": count,
                    "y": round(y, 1),
                    "height": round(height, 1),
                    "colour": STATUS_COLOURS[status],
                }
            )
        bars.append(
            {
                "day": day.day,
                "x": x,
                "total": day.total,
                "segments": segments,
                "top_y": round(y, 1),
                "counts": day.counts,
                "label_x": x + BAR_WIDTH / 2,
            }
        )
    totals = {status: sum(day.counts[status] for day in chart_days) for status in CHART_STATUSES}
    outgoing = sum(totals.values())
    return {
        "bars": bars,
        "days": days,
        "first": chart_days[0].day if chart_days else None,
        "last": chart_days[-1].day if chart_days else None,
        "width": len(chart_days) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
        "height": CHART_HEIGHT,
        "min_width": round((len(chart_days) * (BAR_WIDTH + BAR_GAP) + 8) * CHART_MIN_SCALE),
        "bar_width": BAR_WIDTH,
        "legend": [
            (status, STATUS_COLOURS[status], totals[status])
            for status in ("read", "delivered", "sent", "failed")
        ],
        "outgoing": outgoing,
        "delivery_rate": round(100 * (totals["delivered"] + totals["read"]) / outgoing)
        if outgoing
        else 0,
        "read_rate": round(100 * totals["read"] / outgoing) if outgoing else 0,
        "peak": peak,
    }
