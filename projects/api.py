"""Which project an API request acts on, and with which role. Every API view asks here."""

from __future__ import annotations

from django.utils.translation import gettext as _

from rest_framework.permissions import BasePermission

from projects.authentication import ApiKeyUser
from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.selectors import project_list_for_user
from wappin_portal.errors import NotFound, ValidationFailed


def project_from_request(request, *, capability: str | tuple[str, ...] = "project.read") -> Project:
    """An API key acts on its own project; a session user names one with `project` (id).

    The caller's role must hold `capability` (see `projects.roles.ROLE_MATRIX`); the
    service the view calls checks it again.
    """
    if isinstance(request.auth, ApiKey):
        capability_require(
            project=request.auth.project, capability=capability, api_key=request.auth
        )
        return request.auth.project
    raw = request.query_params.get("project") or (
        request.data.get("project") if hasattr(request.data, "get") else None
    )
    projects = project_list_for_user(user=request.user)
    if raw in (None, ""):
        if projects.count() == 1:
            project = projects.get()
        else:
            raise ValidationFailed(
                _("Say which project: add `project` (its id)."),
                field="project",
                code="project_required",
            )
    else:
        try:
            project = projects.get(pk=int(raw))
        except (ValueError, TypeError, Project.DoesNotExist) as exc:
            raise NotFound(_("No such project."), code="project_not_found") from exc
    capability_require(project=project, capability=capability, actor=request.user)
    return project


def api_caller(request) -> dict:
    """Who makes an API write, as the services take it: `actor` (a session user) or `api_key`."""
    if isinstance(request.auth, ApiKey):
        return {"actor": None, "api_key": request.auth}
    return {"actor": request.user, "api_key": None}


class IsProjectMember(BasePermission):
    """Authenticated by API key, or a session user with at least one project."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, ApiKeyUser):
            return True
        return bool(user and user.is_authenticated and project_list_for_user(user=user).exists())
