"""The dashboard: the project's delivery and read rates, the daily chart, and its recent blasts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging.blasts.selectors import blast_list, blast_progress_many
from messaging.dashboard.selectors import dashboard_stats
from projects.ui import project_page

RECENT_BLASTS = 5


@project_page()
def dashboard(request: HttpRequest) -> HttpResponse:
    project = request.project
    recent_blasts = []
    # Blasts are for the members who may edit (the blast pages' roles); others see no card.
    if request.can_edit:
        rows = list(blast_list(project=project)[:RECENT_BLASTS])
        progress = blast_progress_many(blasts=rows)
        recent_blasts = [(blast, progress[blast.pk]) for blast in rows]
    return render(
        request,
        "messaging/dashboard.html",
        {
            "project": project,
            "stats": dashboard_stats(project=project),
            "recent_blasts": recent_blasts,
        },
    )
