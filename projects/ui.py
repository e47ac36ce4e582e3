"""The web pages' one access rule: logged in, the current project, a role that may use the page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from projects.models import Membership
from projects.selectors import project_current, project_require_role
from wappin_portal.errors import NotFound

# Who may change things on the marketing pages; every member may look.
EDITOR_ROLES = (Membership.Role.ADMIN, Membership.Role.MARKETING)


def project_page(*, roles: tuple[str, ...] | None = None) -> Callable:
    """Log-in required; sets `request.project`, `request.project_role` and `request.can_edit`.

    A user with no project gets a friendly page; a role not in `roles` gets a 403
    page that says which roles may use it. A `NotFound` the view lets through (a
    selector's "no such row in this project") is the 404 page.
    """

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            project = project_current(request=request)
            if project is None:
                return render(request, "no_project.html")
            role = project_require_role(user=request.user, project=project)
            request.project = project
            request.project_role = role
            request.can_edit = role in EDITOR_ROLES
            if roles and role not in roles:
                return render(
                    request,
                    "not_allowed.html",
                    {
                        "project": project,
                        "role": Membership.Role(role).label,
                        "allowed": [Membership.Role(allowed).label for allowed in roles],
                    },
                    status=403,
                )
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404(error.message) from error

        return wrapper

    return decorator
