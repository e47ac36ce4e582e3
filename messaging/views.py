from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging import selectors
from projects.selectors import project_current


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    project = project_current(request=request)
    stats = selectors.dashboard_stats(project=project) if project else None
    return render(request, "messaging/dashboard.html", {"project": project, "stats": stats})
