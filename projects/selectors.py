"""Reads on projects: which projects a user may see, and with which role."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import HttpRequest

from projects.models import ApiKey, Integration, Membership, Project
from wappin_portal.errors import NotFound, PermissionDenied

SESSION_PROJECT_KEY = "current_project_id"


def project_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


def membership_role(*, user: AbstractBaseUser, project: Project) -> str | None:
    if user.is_superuser:
        return Membership.Role.ADMIN
    return (
        Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
    )


def project_require_role(
    *, user: AbstractBaseUser, project: Project, roles: tuple[str, ...] | None = None
) -> str:
    """The user's role on the project, or PermissionDenied if it is not one of `roles`."""
    role = membership_role(user=user, project=project)
    if role is None:
        raise NotFound("No such project.", code="project_not_found")
    if roles and role not in roles:
        raise PermissionDenied(
            f"Your role on {project.name} ({role}) may not do this.", code="role_not_allowed"
        )
    return role


def project_current(*, request: HttpRequest) -> Project | None:
    """The project the web UI works on: the one picked in the session, else the first one."""
    projects = project_list_for_user(user=request.user)
    picked = request.session.get(SESSION_PROJECT_KEY)
    project = projects.filter(pk=picked).first() if picked else None
    return project or projects.first()


def api_key_list(*, project: Project) -> QuerySet[ApiKey]:
    """A project's API keys, newest first, revoked ones included (the page shows when)."""
    return ApiKey.objects.filter(project=project).select_related("created_by")


def api_key_get(*, project: Project, api_key_id: int) -> ApiKey:
    api_key = ApiKey.objects.filter(project=project, pk=api_key_id).first()
    if api_key is None:
        raise NotFound("No such API key in this project.", code="api_key_not_found")
    api_key.project = project  # the caller's instance: no second read
    return api_key


# The encrypted fields of an integration and of its Wappin client (for `select_related("credential")`).
ENCRYPTED_INTEGRATION_FIELDS = (
    "client_key",
    "secret_key",
    "credential__access_token",
    "credential__previous_access_token",
)


def integration_first_active(*, project: Project, kinds: Sequence[str]) -> Integration | None:
    """The project's active integration of the first of `kinds` it has, in one query.

    Within a kind, the same order as `integration_for` (by environment). For
    choosing, not calling: the secrets stay in the database (deferred, read on
    first use) and `secret_key_is_set` says whether one is there, so accepting a
    send decrypts nothing.
    """
    candidates = list(
        Integration.objects.filter(project=project, kind__in=list(kinds), is_active=True)
        .select_related("credential")
        .defer(*ENCRYPTED_INTEGRATION_FIELDS)
        .annotate(
            secret_key_is_set=ExpressionWrapper(~Q(secret_key=""), output_field=BooleanField())
        )
        .order_by("environment")
    )
    for kind in kinds:
        for integration in candidates:
            if integration.kind == kind:
                integration.project = project  # the caller's instance: no second read
                return integration
    return None


def integration_for(*, project: Project, kind: str) -> Integration:
    """The active integration of a kind; a notification send may fall back to the chatbot one."""
    integration = integration_first_active(project=project, kinds=[kind])
    if integration is None:
        label = Integration.Kind(kind).label
        raise NotFound(
            f"{project.name} has no active {label} integration: add one in the admin.",
            code="integration_missing",
        )
    return integration
