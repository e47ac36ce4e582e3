"""Which project an API request acts on, and with which role. Every API view asks here."""

from __future__ import annotations

from django.utils.translation import gettext as _

from rest_framework.permissions import BasePermission

from projects.authentication import ApiKeyUser
from projects.models import ApiKey, Membership, Project
from projects.selectors import project_list_for_user, project_require_role
from wappin_portal.errors import NotFound, PermissionDenied, ValidationFailed


def _projects_named(request) -> list[str]:
    """Every `project` the request gives, in the query string (once or more) and the body."""
    named = [str(value) for value in request.query_params.getlist("project")]
    data = request.data
    if hasattr(data, "getlist"):
        named += [str(value) for value in data.getlist("project")]
    elif isinstance(data, dict) and data.get("project") is not None:
        named.append(str(data["project"]))
    return named


def project_from_request(request, *, roles: tuple[str, ...] | None = None) -> Project:
    """An API key acts on its own project; a session user names one with `project` (id)."""
    named = _projects_named(request)
    if len(set(named)) > 1:
        raise NotFound(_("Give `project` once: which project is meant?"), code="project_not_found")
    raw = named[0] if named else None
    if isinstance(request.auth, ApiKey):
        if roles and request.auth.role not in roles:
            raise PermissionDenied("This API key's role may not do this.", code="role_not_allowed")
        # A key needs no `project`; one it names must be its own (a typo is not silently ignored).
        if raw is not None and raw != str(request.auth.project_id):
            raise NotFound(
                _("No such project for this API key: leave `project` out, or give the key's own."),
                code="project_not_found",
            )
        return request.auth.project
    projects = project_list_for_user(user=request.user)
    if raw in (None, ""):
        if projects.count() == 1:
            project = projects.get()
        else:
            raise ValidationFailed(
                "Say which project: add `project` (its id).",
                field="project",
                code="project_required",
            )
    else:
        try:
            project = projects.get(pk=int(raw))
        except (ValueError, TypeError, Project.DoesNotExist) as exc:
            raise NotFound("No such project.", code="project_not_found") from exc
    project_require_role(user=request.user, project=project, roles=roles)
    return project


class IsProjectMember(BasePermission):
    """Authenticated by API key, or a session user with at least one project."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, ApiKeyUser):
            return True
        return bool(user and user.is_authenticated and project_list_for_user(user=user).exists())


WRITE_ROLES = (Membership.Role.ADMIN, Membership.Role.MARKETING, Membership.Role.DEVELOPER)
