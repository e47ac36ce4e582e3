"""Which project an API request acts on, and with which role. Every API view asks here."""

from __future__ import annotations

from django.utils.translation import gettext as _

from rest_framework.permissions import BasePermission

from projects.authentication import ApiKeyUser
from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.selectors import project_list_for_user
from wappin_portal.errors import NotFound, ValidationFailed


def _body_projects(request) -> list[str]:
    """Every `project` the request's body gives (reading the body: after the role check)."""
    data = request.data
    if hasattr(data, "getlist"):
        return [str(value) for value in data.getlist("project")]
    if isinstance(data, dict) and data.get("project") is not None:
        return [str(data["project"])]
    return []


def _one_project(named: list[str]) -> str | None:
    if len(set(named)) > 1:
        raise NotFound(_("Give `project` once: which project is meant?"), code="project_not_found")
    return named[0] if named else None


def project_from_request(request, *, capability: str | tuple[str, ...] = "project.read") -> Project:
    """An API key acts on its own project; a session user names one with `project` (id).

    The caller's role must hold `capability` (see `projects.roles.ROLE_MATRIX`); the
    service the view calls checks it again. The role is checked before the body is read, so
    a caller without it gets 403 whatever it sent. `project` given twice, differently (in
    the query and the body, or repeated), is a 404 rather than a guess.
    """
    query = [str(value) for value in request.query_params.getlist("project")]
    if isinstance(request.auth, ApiKey):
        capability_require(
            project=request.auth.project, capability=capability, api_key=request.auth
        )
        raw = _one_project(query + _body_projects(request))
        # A key needs no `project`; one it names must be its own (a typo is not silently ignored).
        if raw is not None and raw != str(request.auth.project_id):
            raise NotFound(
                _("No such project for this API key: leave `project` out, or give the key's own."),
                code="project_not_found",
            )
        return request.auth.project
    raw = _one_project(query) if query else _one_project(_body_projects(request))
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
    if query:
        _one_project([raw, *_body_projects(request)])  # the body may not name another one
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
