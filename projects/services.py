"""Writes on projects, integrations, members and API keys. Admin, UI and API all call these."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import ApiKey, AuditEvent, Integration, Membership, Project, api_key_hash
from projects.roles import capability_require, role_can
from projects.selectors import user_find
from wappin_portal.errors import Conflict, PermissionDenied, ValidationFailed

API_KEY_BYTES = 32


def audit_record(
    *,
    action: str,
    project: Project | None = None,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    target: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Write one audit row. `data` must never hold a secret."""
    return AuditEvent.objects.create(
        project=project,
        actor=actor if actor is not None and actor.is_authenticated else None,
        api_key=api_key,
        action=action,
        target=str(target)[:200],
        data=data or {},
    )


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def api_key_create(
    *, project: Project, name: str, created_by: AbstractBaseUser | None = None
) -> CreatedApiKey:
    capability_require(project=project, capability="api_key.manage", actor=created_by)
    raw_key = "wp_" + secrets.token_urlsafe(API_KEY_BYTES)
    api_key = ApiKey.objects.create(
        project=project,
        name=name.strip() or "API key",
        prefix=raw_key[3 : 3 + 8],
        hashed_key=api_key_hash(raw_key),
        created_by=created_by,
    )
    audit_record(action="api_key.create", project=project, actor=created_by, target=str(api_key))
    return CreatedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey, actor: AbstractBaseUser | None = None) -> ApiKey:
    """Revoke a key: a project admin any of the project's keys, a developer the ones they made."""
    role = capability_require(project=api_key.project, capability="api_key.manage", actor=actor)
    if (
        role is not None
        and not role_can(role, "api_key.revoke_any")
        and api_key.created_by_id != actor.pk
    ):
        raise PermissionDenied(
            _("A developer revokes only the API keys they created; ask a project admin."),
            code="api_key_not_yours",
        )
    if api_key.revoked_at is not None:
        raise Conflict(_("This API key is already revoked."), code="api_key_revoked")
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at", "updated_at"])
    audit_record(action="api_key.revoke", project=api_key.project, actor=actor, target=str(api_key))
    return api_key


def api_keys_of_creator_revoke(
    *, user: AbstractBaseUser, project: Project | None = None, actor: AbstractBaseUser | None = None
) -> int:
    """Revoke the live keys `user` created (on `project`, or on every project): a member who
    leaves a project, or whose account is deactivated, leaves no key working behind them."""
    keys = ApiKey.objects.filter(created_by=user, revoked_at__isnull=True).select_related("project")
    if project is not None:
        keys = keys.filter(project=project)
    revoked = 0
    for api_key in keys:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            action="api_key.revoke",
            project=api_key.project,
            actor=actor,
            target=str(api_key),
            data={"reason": f"its creator {user} left the project or was deactivated"},
        )
        revoked += 1
    return revoked


SECRET_FIELDS = ("client_key", "secret_key")


@transaction.atomic
def integration_save(
    *,
    integration: Integration,
    actor: AbstractBaseUser | None = None,
    secrets_given: dict[str, str] | None = None,
) -> Integration:
    """Save an integration. Secrets are write-only: an empty value keeps the stored one.

    Its token is its Wappin client's (`WappinCredential`, by client id and secret key):
    a new secret key points it at that client's row (`Integration.credential_sync`), whose
    token is fetched on the next call if it has none.
    """
    capability_require(project=integration.project, capability="integration.manage", actor=actor)
    stored = (
        Integration.objects.filter(pk=integration.pk).first()
        if integration.pk is not None
        else None
    )
    before = _integration_state(stored) if stored is not None else None
    changed = []
    for field, value in (secrets_given or {}).items():
        if field not in SECRET_FIELDS or not value:
            continue
        setattr(integration, field, value.strip())
        changed.append(field)
    integration.full_clean()
    is_new = integration.pk is None
    integration.save()
    audit_record(
        action="integration.create" if is_new else "integration.update",
        project=integration.project,
        actor=actor,
        target=str(integration),
        data={
            "before": before,
            "after": _integration_state(integration),
            "secrets_changed": changed,
        },
    )
    return integration


PROJECT_AUDITED_FIELDS = (
    "name",
    "client_id",
    "wappin_project_id",
    "business_number",
    "business_name",
    "default_region",
    "website_url",
    "default_chatbot_message",
)


def _project_state(project: Project) -> dict:
    return {field: getattr(project, field) for field in PROJECT_AUDITED_FIELDS}


INTEGRATION_AUDITED_FIELDS = (
    "kind",
    "environment",
    "is_active",
    "callback_url",
    "ip_whitelist",
    "callback_ip_allowlist",
    "max_messages_per_second",
)


def _integration_state(integration: Integration) -> dict:
    return {field: getattr(integration, field) for field in INTEGRATION_AUDITED_FIELDS}


@transaction.atomic
def project_save(*, project: Project, actor: AbstractBaseUser | None = None) -> Project:
    """Save a project. A token belongs to a Wappin client: a new client ID points the
    project's integrations at that client's `WappinCredential` (and its token)."""
    if project.pk is not None:  # a new project is a superuser's (the admin) or the operator's
        capability_require(project=project, capability="integration.manage", actor=actor)
    project.full_clean()
    is_new = project.pk is None
    stored = None if is_new else Project.objects.filter(pk=project.pk).first()
    previous_client_id = stored.client_id if stored is not None else None
    project.save()
    if previous_client_id is not None and previous_client_id != project.client_id:
        for integration in project.integrations.select_related("credential"):
            integration.project = project
            integration.save(update_fields=["credential", "updated_at"])
    audit_record(
        action="project.create" if is_new else "project.update",
        project=project,
        actor=actor,
        target=project.name,
        data={
            "before": _project_state(stored) if stored is not None else None,
            "after": _project_state(project),
        },
    )
    return project


@transaction.atomic
def membership_set(
    *, project: Project, user: AbstractBaseUser, role: str, actor: AbstractBaseUser | None = None
) -> Membership:
    """Give a user a role on a project (a new member, or a new role), audited with the role before.

    A project admin (or a superuser) may; a project admin cannot demote its last admin.
    """
    capability_require(project=project, capability="member.manage", actor=actor)
    if role not in Membership.Role.values:
        raise ValidationFailed(
            _("Choose a role: %(roles)s.") % {"roles": ", ".join(Membership.Role.values)},
            field="role",
            code="role_invalid",
        )
    previous = (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )
    if previous == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        _last_admin_check(project=project, user=user, actor=actor)
    membership, _created = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    audit_record(
        action="membership.set",
        project=project,
        actor=actor,
        target=str(user),
        data={"role": role, "previous_role": previous},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: AbstractBaseUser | None = None) -> None:
    """Take a user off a project, audited; the API keys they created there are revoked."""
    capability_require(project=membership.project, capability="member.manage", actor=actor)
    if membership.role == Membership.Role.ADMIN:
        _last_admin_check(project=membership.project, user=membership.user, actor=actor)
    api_keys_of_creator_revoke(user=membership.user, project=membership.project, actor=actor)
    audit_record(
        action="membership.remove",
        project=membership.project,
        actor=actor,
        target=str(membership.user),
        data={"role": membership.role},
    )
    membership.delete()


OPT_OUT_TEXT_MAX_LENGTH = 1024


@transaction.atomic
def project_opt_out_texts_update(
    *, project: Project, actor: AbstractBaseUser, texts: dict[str, str]
) -> Project:
    """Change the answers to STOP/BERHENTI and START/MULAI (project admins only), audited
    with each changed text before and after. A text left out keeps its value."""
    capability_require(project=project, capability="project.settings", actor=actor)
    errors: dict[str, list[str]] = {}
    changed: dict[str, str] = {}
    for field in Project.OPT_OUT_TEXT_FIELDS:
        if field not in texts:
            continue
        value = (texts[field] or "").strip()
        if not value:
            errors[field] = [_("Write the text the customer receives.")]
        elif len(value) > OPT_OUT_TEXT_MAX_LENGTH:
            errors[field] = [
                _("At most %(count)d characters.") % {"count": OPT_OUT_TEXT_MAX_LENGTH}
            ]
        elif value != getattr(project, field):
            changed[field] = value
    if errors:
        raise ValidationFailed(
            next(iter(errors.values()))[0], fields=errors, code="opt_out_texts_invalid"
        )
    if not changed:
        return project
    before = {field: getattr(project, field) for field in changed}
    for field, value in changed.items():
        setattr(project, field, value)
    project.save(update_fields=[*changed, "updated_at"])
    audit_record(
        action="project.opt_out_texts",
        project=project,
        actor=actor,
        target=project.name,
        data={"before": before, "after": changed},
    )
    return project


def _last_admin_check(
    *, project: Project, user: AbstractBaseUser, actor: AbstractBaseUser | None
) -> None:
    """A project admin cannot leave the project without one: someone must manage its members.
    A superuser (or the portal itself) may, as they manage every project anyway."""
    if actor is None or actor.is_superuser:
        return
    others = (
        Membership.objects.filter(project=project, role=Membership.Role.ADMIN)
        .exclude(user=user)
        .exists()
    )
    if not others:
        raise Conflict(
            _("%(user)s is the last admin of %(project)s: make someone else admin first.")
            % {"user": user, "project": project.name},
            code="last_admin",
        )


@transaction.atomic
def member_add(
    *, project: Project, username_or_email: str, role: str, actor: AbstractBaseUser | None
) -> Membership:
    """Add an existing user, found by user name or e-mail address, to the project with a role."""
    capability_require(project=project, capability="member.manage", actor=actor)
    user = user_find(username_or_email=username_or_email)
    if Membership.objects.filter(project=project, user=user).exists():
        raise Conflict(
            _("%(user)s is already a member of %(project)s: change their role instead.")
            % {"user": user, "project": project.name},
            field="user",
            code="already_member",
        )
    return membership_set(project=project, user=user, role=role, actor=actor)
