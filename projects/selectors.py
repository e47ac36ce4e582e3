"""Reads on projects: which projects a user may see, and with which role."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import ApiKey, AuditEvent, Integration, Membership, Project
from wappin_portal.csv_export import csv_safe
from wappin_portal.errors import NotFound, ValidationFailed

SESSION_PROJECT_KEY = "current_project_id"


def project_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user).distinct()


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
        raise NotFound(_("No such API key in this project."), code="api_key_not_found")
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


def user_find(*, username_or_email: str) -> AbstractBaseUser:
    """An active user by user name, or by e-mail address when exactly one has it."""
    text = (username_or_email or "").strip()
    if not text:
        raise ValidationFailed(
            _("Give the user name or e-mail address of the person to add."),
            field="user",
            code="user_required",
        )
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=text).first()
    if user is None and "@" in text:
        by_email = list(users.filter(email__iexact=text)[:2])
        user = by_email[0] if len(by_email) == 1 else None
    if user is None:
        raise NotFound(
            _("No active user %(name)s: they need an account first (ask a superuser).")
            % {"name": text},
            field="user",
            code="user_not_found",
        )
    return user


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )


def membership_get(*, project: Project, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(project=project, pk=membership_id).select_related("user").first()
    )
    if membership is None:
        raise NotFound(_("No such member in this project."), code="member_not_found")
    membership.project = project
    return membership


def api_keys_of_creator(*, project: Project, user: AbstractBaseUser) -> QuerySet[ApiKey]:
    """The live keys `user` made on `project`: removing them from it revokes these."""
    return ApiKey.objects.filter(project=project, created_by=user, revoked_at__isnull=True)


def integration_list(*, project: Project) -> QuerySet[Integration]:
    """A project's integrations for its admin page; the secrets stay deferred (never shown)."""
    return (
        Integration.objects.filter(project=project)
        .select_related("credential")
        .defer(*ENCRYPTED_INTEGRATION_FIELDS)
        .annotate(
            secret_key_is_set=ExpressionWrapper(~Q(secret_key=""), output_field=BooleanField()),
            client_key_is_set=ExpressionWrapper(~Q(client_key=""), output_field=BooleanField()),
        )
        .order_by("kind", "environment")
    )


def integration_get(*, project: Project, integration_id: int) -> Integration:
    integration = Integration.objects.filter(project=project, pk=integration_id).first()
    if integration is None:
        raise NotFound(_("No such integration in this project."), code="integration_not_found")
    integration.project = project
    return integration


AUDIT_PAGE_SIZE = 50


def audit_event_list(
    *,
    project: Project,
    action: str = "",
    actor_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """A project's audit log, newest first; `action` matches a prefix ("contact" or
    "contact.update"); the dates are whole days in the portal's time zone, both included."""
    events = AuditEvent.objects.filter(project=project).select_related("actor", "api_key")
    if action:
        events = events.filter(action__startswith=action)
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if date_from:
        events = events.filter(created_at__gte=_day_start(date_from))
    if date_to:
        events = events.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    return events


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_actions(*, project: Project) -> list[str]:
    """The actions the project's log holds, for the filter's choices."""
    return list(
        AuditEvent.objects.filter(project=project)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def audit_data_text(event: AuditEvent) -> str:
    """An event's details (before/after...) as one line of JSON, for the page and the CSV."""
    return (
        json.dumps(event.data, ensure_ascii=False, sort_keys=True, default=str)
        if event.data
        else ""
    )


def audit_export_rows(*, events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    """The audit log as CSV rows (header first), every cell formula-safe."""
    yield ["time", "action", "actor", "api_key", "target", "data"]
    for event in events.iterator(chunk_size=1000):
        yield [
            csv_safe(cell)
            for cell in (
                timezone.localtime(event.created_at).isoformat(),
                event.action,
                event.actor.get_username() if event.actor else "",
                str(event.api_key) if event.api_key else "",
                event.target,
                audit_data_text(event),
            )
        ]
