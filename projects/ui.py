"""The web pages' one access rule: logged in, the current project, a role that may use the page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from projects.roles import (
    capability_refusal,
    capability_roles,
    membership_role,
    role_can,
    role_capabilities,
)
from projects.selectors import project_current
from wappin_portal.errors import NotFound, PermissionDenied


def project_page(
    *,
    capability: str | tuple[str, ...] = "project.read",
    post: str | tuple[str, ...] | None = None,
) -> Callable:
    """Log-in required; sets `request.project`, `request.project_role`, `request.capabilities`
    and `request.can_edit` (may use the marketing pages' forms that change contacts).

    A user with no project gets a friendly page; a role without `capability` (every one of
    them, when several are given: see `projects.roles.ROLE_MATRIX`) gets a 403 page that says
    which roles may use it, and so does a `PermissionDenied` the view's service raises. A
    `NotFound` the view lets through (a selector's "no such row in this project") is the 404
    page. The view's services check the capability again: the page is not the only guard.
    `post`: what a POST needs when it is more than looking (a page that reads on GET).
    """
    capabilities = (capability,) if isinstance(capability, str) else tuple(capability)
    post_capabilities = (
        capabilities if post is None else (post,) if isinstance(post, str) else tuple(post)
    )
    # The matrix is read when the URLconf loads: a misspelt capability fails at start-up.
    capability_roles(*capabilities, *post_capabilities)

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            project = project_current(request=request)
            if project is None:
                return render(request, "no_project.html")
            role = membership_role(user=request.user, project=project)
            if role is None:  # project_current only offers the user's projects
                raise Http404
            request.project = project
            request.project_role = role
            request.capabilities = role_capabilities(role)
            request.can_edit = role_can(role, "contact.edit") and role_can(
                role, "marketing_pages.use"
            )
            needs = post_capabilities if request.method == "POST" else capabilities
            if not all(role_can(role, need) for need in needs):
                refusal = capability_refusal(role=role, project=project, capabilities=needs)
                return not_allowed(request, message=refusal.message)
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404(error.message) from error
            except PermissionDenied as error:  # the service's own check
                return not_allowed(request, message=error.message)

        wrapper.capabilities = {"GET": capabilities, "POST": post_capabilities}
        return wrapper

    return decorator


def not_allowed(request: HttpRequest, *, message: str) -> HttpResponse:
    """The 403 page: what the role may not do, and who may."""
    return render(
        request, "not_allowed.html", {"project": request.project, "message": message}, status=403
    )
