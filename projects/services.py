"""Writes on projects, integrations, members and API keys. Admin, UI and API all call these."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from projects.models import ApiKey, AuditEvent, Integration, Membership, Project, api_key_hash
from projects.selectors import project_require_role
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
    if actor is not None and actor.is_authenticated and not actor.is_superuser:
        role = project_require_role(
            user=actor,
            project=api_key.project,
            roles=(Membership.Role.ADMIN, Membership.Role.DEVELOPER),
        )
        if role != Membership.Role.ADMIN and api_key.created_by_id != actor.pk:
            raise PermissionDenied(
                "A developer revokes only the API keys they created; ask a project admin.",
                code="api_key_not_yours",
            )
    if api_key.revoked_at is not None:
        raise Conflict("This API key is already revoked.", code="api_key_revoked")
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
        data={"secrets_changed": changed},
    )
    return integration


@transaction.atomic
def project_save(*, project: Project, actor: AbstractBaseUser | None = None) -> Project:
    """Save a project. A token belongs to a Wappin client: a new client ID points the
    project's integrations at that client's `WappinCredential` (and its token)."""
    project.full_clean()
    is_new = project.pk is None
    previous_client_id = (
        None
        if is_new
        else Project.objects.filter(pk=project.pk).values_list("client_id", flat=True).first()
    )
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
    )
    return project


@transaction.atomic
def membership_set(
    *, project: Project, user: AbstractBaseUser, role: str, actor: AbstractBaseUser | None = None
) -> Membership:
    """Give a user a role on a project (a new member, or a new role), audited with the role before."""
    previous = (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )
    membership, _ = Membership.objects.update_or_create(
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
    project_require_role(user=actor, project=project, roles=(Membership.Role.ADMIN,))
    errors: dict[str, list[str]] = {}
    changed: dict[str, str] = {}
    for field in Project.OPT_OUT_TEXT_FIELDS:
        if field not in texts:
            continue
        value = (texts[field] or "").strip()
        if not value:
            errors[field] = ["Write the text the customer receives."]
        elif len(value) > OPT_OUT_TEXT_MAX_LENGTH:
            errors[field] = [f"At most {OPT_OUT_TEXT_MAX_LENGTH} characters."]
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
