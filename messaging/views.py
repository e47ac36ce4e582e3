from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging import blasts, selectors
from projects.models import Membership
from projects.selectors import project_current, project_require_role

RECENT_BLASTS = 5


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    project = project_current(request=request)
    stats = selectors.dashboard_stats(project=project) if project else None
    recent_blasts = []
    # Blasts are for marketing and admin members (views_blasts.py); others see no card.
    if project and project_require_role(user=request.user, project=project) in (
        Membership.Role.ADMIN, Membership.Role.MARKETING
    ):
        rows = list(blasts.blast_list(project=project)[:RECENT_BLASTS])
        progress = blasts.blast_progress_many(blasts=rows)
        recent_blasts = [(blast, progress[blast.pk]) for blast in rows]
    return render(
        request, "messaging/dashboard.html", {"project": project, "stats": stats, "recent_blasts": recent_blasts}
    )
