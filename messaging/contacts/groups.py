"""Contact groups for the REST API: reads and writes, project-scoped.

Names are unique in a project regardless of case, as the contact form and the
import resolve them ("VIP" and "vip" are one group).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, ProtectedError, QuerySet
from django.utils.translation import gettext as _

from messaging.models import ContactGroup
from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.services import audit_record
from wappin_portal.errors import Conflict, NotFound, ValidationFailed

GROUP_NAME_MAX_LENGTH = 100


def group_list(*, project: Project) -> QuerySet[ContactGroup]:
    """The project's groups by name, each with `contact_count`."""
    return (
        ContactGroup.objects.filter(project=project)
        .annotate(contact_count=Count("contacts"))
        .order_by("name", "id")
    )


def group_get(*, project: Project, group_id: int) -> ContactGroup:
    try:
        return group_list(project=project).get(pk=group_id)
    except (ContactGroup.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such group in this project."), code="group_not_found") from exc


def _name_clean(name: str) -> str:
    name = " ".join((name or "").replace("\x00", "").split())
    if not name:
        raise ValidationFailed(_("A group needs a name."), field="name", code="group_name_required")
    if len(name) > GROUP_NAME_MAX_LENGTH:
        raise ValidationFailed(
            _("A group name has at most %(max)d characters.") % {"max": GROUP_NAME_MAX_LENGTH},
            field="name",
            code="group_name_too_long",
        )
    return name


def _name_taken(*, name: str) -> Conflict:
    return Conflict(
        _("The project already has a group named '%(name)s'.") % {"name": name},
        field="name",
        code="group_name_taken",
    )


def _name_check_free(*, project: Project, name: str, exclude_id: int | None = None) -> None:
    others = ContactGroup.objects.filter(project=project, name__iexact=name)
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    if others.exists():
        raise _name_taken(name=name)


def _group_audit(
    *, action: str, group: ContactGroup, actor, api_key: ApiKey | None, data: dict
) -> None:
    audit_record(
        action=action,
        project=group.project,
        actor=actor if getattr(actor, "pk", None) is not None else None,
        api_key=api_key,
        target=f"{group.pk} {group.name}",
        data=data,
    )


def group_create(
    *,
    project: Project,
    name: str,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> ContactGroup:
    capability_require(project=project, capability="contact.edit", actor=actor, api_key=api_key)
    name = _name_clean(name)
    _name_check_free(project=project, name=name)
    try:
        with transaction.atomic():
            group = ContactGroup.objects.create(project=project, name=name)
    except IntegrityError as exc:  # created by another request between the check and the insert
        raise _name_taken(name=name) from exc
    _group_audit(
        action="group.create", group=group, actor=actor, api_key=api_key, data={"after": name}
    )
    return group_get(project=project, group_id=group.pk)


def group_rename(
    *,
    group: ContactGroup,
    name: str,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> ContactGroup:
    capability_require(
        project=group.project, capability="contact.edit", actor=actor, api_key=api_key
    )
    before = group.name
    name = _name_clean(name)
    _name_check_free(project=group.project, name=name, exclude_id=group.pk)
    group.name = name
    try:
        with transaction.atomic():
            group.save(update_fields=["name", "updated_at"])
    except IntegrityError as exc:
        raise _name_taken(name=name) from exc
    _group_audit(
        action="group.rename",
        group=group,
        actor=actor,
        api_key=api_key,
        data={"before": before, "after": name},
    )
    return group_get(project=group.project, group_id=group.pk)


def group_delete(
    *, group: ContactGroup, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> None:
    """Delete the group (its contacts stay); refused while a blast is addressed to it."""
    capability_require(
        project=group.project, capability="contact.edit", actor=actor, api_key=api_key
    )
    try:
        with transaction.atomic():  # the audit row goes if the delete is refused
            _group_audit(
                action="group.delete",
                group=group,
                actor=actor,
                api_key=api_key,
                data={"before": group.name},
            )
            group.delete()
    except ProtectedError as exc:
        raise Conflict(
            _("Blasts were sent to this group: it is kept so their audience stays known."),
            code="group_in_use",
        ) from exc
