"""The dashboard's 14-day chart of outgoing messages per status: inline SVG, no JavaScript."""

from __future__ import annotations

from django import template
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from messaging.dashboard.selectors import CHART_STATUSES, Period, message_daily_counts
from messaging.models import Message
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
                "first": index == 0,
            }
        )
    totals = {status: sum(day.counts[status] for day in chart_days) for status in CHART_STATUSES}
    bars_svg = _bars_svg(bars, height=CHART_HEIGHT)
    outgoing = sum(totals.values())
    return {
        "bars_svg": bars_svg,
        "days": days,
        "first": chart_days[0].day if chart_days else None,
        "last": chart_days[-1].day if chart_days else None,
        "width": len(chart_days) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
        "height": CHART_HEIGHT,
        "min_width": round((len(chart_days) * (BAR_WIDTH + BAR_GAP) + 8) * CHART_MIN_SCALE),
        "bar_width": BAR_WIDTH,
        "legend": [
            (Message.Status(status).label, STATUS_COLOURS[status], totals[status])
            for status in ("read", "delivered", "sent", "failed")
        ],
        "outgoing": outgoing,
        "delivery_rate": round(100 * (totals["delivered"] + totals["read"]) / outgoing)
        if outgoing
        else 0,
        "read_rate": round(100 * totals["read"] / outgoing) if outgoing else 0,
        "peak": peak,
    }


def _bars_svg(bars: list[dict], *, height: int) -> SafeString:
    """The chart's bars as SVG, built here with plain string formatting: a template loop over
    every bar's dozen values cost most of the dashboard's rendering time. Only numbers and
    the escaped title go in."""
    label = 'text-anchor="middle" fill="#66756f"'
    out = []
    for bar in bars:
        counts = bar["counts"]
        title = _(
            "%(day)s: %(total)s outgoing — %(read)s read, %(delivered)s delivered, "
            "%(sent)s sent, %(failed)s failed"
        ) % {"day": date_format(bar["day"], "D j M"), "total": bar["total"], **counts}
        x = bar["x"]
        parts = [f"<g><title>{escape(title)}</title>"]
        if not bar["segments"]:
            parts.append(
                f'<rect x="{x}" y="{height - 2}" width="{BAR_WIDTH}" height="2" fill="#dfe6e3"/>'
            )
        for seg in bar["segments"]:
            parts.append(
                f'<rect class="seg-{seg["status"]}" x="{x}" y="{seg["y"]}" width="{BAR_WIDTH}" '
                f'height="{seg["height"]}" fill="{seg["colour"]}"/>'
            )
        if bar["total"]:
            parts.append(
                f'<text x="{bar["label_x"]}" y="{bar["top_y"]}" dy="-5" {label} font-size="22">'
                f"{bar['total']}</text>"
            )
        parts.append(
            f'<text x="{bar["label_x"]}" y="{height + 26}" {label} font-size="22">'
            f"{bar['day'].day}</text>"
        )
        if bar["first"] or bar["day"].day == 1:
            month = escape(date_format(bar["day"], "M"))
            parts.append(
                f'<text x="{bar["label_x"]}" y="{height + 50}" {label} font-size="20">{month}</text>'
            )
        parts.append("</g>")
        out.append("".join(parts))
    return SafeString("\n".join(out))  # noqa: S704 - numbers, fixed colours and escaped text
