"""The dashboard: the period's delivery and read rates, per template, the daily chart, blasts."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from messaging.blasts.selectors import blast_list, blast_progress_many
from messaging.dashboard.forms import DEFAULT_PRESET, DashboardPeriodForm
from messaging.dashboard.selectors import Period, dashboard_stats, template_stats
from projects.ui import project_page

RECENT_BLASTS = 5
# The dashboard's "today" card asks for its figures again this often while the page is open.
TODAY_POLL_SECONDS = 15
# The chart draws one bar a day: a longer period shows its last month of bars.
CHART_MAX_DAYS = 31


@project_page()
def dashboard(request: HttpRequest) -> HttpResponse:
    project = request.project
    form = DashboardPeriodForm(request.GET or None, initial={"range": DEFAULT_PRESET})
    period = form.period()
    recent_blasts = []
    # Blasts are for the members who may edit (the blast pages' roles); others see no card.
    if request.can_edit:
        rows = list(blast_list(project=project)[:RECENT_BLASTS])
        progress = blast_progress_many(blasts=rows)
        recent_blasts = [(blast, progress[blast.pk]) for blast in rows]
    chart_period = Period(
        first=max(period.first, period.last - timedelta(days=CHART_MAX_DAYS - 1)),
        last=period.last,
    )
    stats = dashboard_stats(project=project, period=period)
    return render(
        request,
        "messaging/dashboard.html",
        {
            "project": project,
            "form": form,
            "period": period,
            "stats": stats,
            "templates": template_stats(project=project, period=period),
            "chart_period": chart_period,
            "recent_blasts": recent_blasts,
            "today": dashboard_stats(project=project, period=Period.last_days(1)),
            "today_poll_seconds": TODAY_POLL_SECONDS,
            "is_new_project": not stats.outgoing
            and not stats.cancelled
            and not stats.incoming
            and not project.messages.exists(),
        },
    )


@require_GET
@project_page()
def dashboard_today(request: HttpRequest) -> HttpResponse:
    """The dashboard's live "today" card (htmx polls it while the page is open)."""
    return render(
        request,
        "messaging/_dashboard_today.html",
        {
            "today": dashboard_stats(project=request.project, period=Period.last_days(1)),
            "today_poll_seconds": TODAY_POLL_SECONDS,
        },
    )
