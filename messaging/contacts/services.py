"""Writes on contacts: create, change, delete, their groups (the import from a file: `imports.py`).

The number rules (normalised, unique within the project) live here, once: the
API, the contact form, the import, the sending services and the callbacks all
go through `contact_create` / `contact_update` / `contact_get_or_create`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import Contact, ContactGroup, Message, OptOut
from messaging.webhook_events import contact_webhook_event
from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.services import audit_record
from projects.webhooks.services import webhook_events_emit
from wappin_portal.errors import Conflict, NotFound
from wappin_portal.phone import phone_normalize

# Group names in one text field (the contact form, an import's group column) are split on
# any of these, so "VIP, Jakarta" and "VIP; Jakarta" name the same two groups.
GROUP_SEPARATORS = (",", ";", "|")


def contact_get_or_create(
    *, project: Project, phone_number: str, name: str = "", stored_form: bool = False
) -> Contact:
    """The project's contact for a number (normalised first); a name fills an empty one.

    `stored_form`: the number is already digits with its country code (normalised
    before, or Wappin's `sender_number`), so it is never re-read in the project's region.
    """
    region = None if stored_form else project.default_region
    number = phone_normalize(phone_number, region=region)
    contact, created = Contact.objects.get_or_create(
        project=project, phone_number=number, defaults={"name": name.strip()[:120]}
    )
    if created:
        contact.opted_out_at = contacts_opt_out_mirror(project=project, numbers=[number]).get(
            number
        )
    if not created and name.strip() and not contact.name:
        contact.name = name.strip()[:120]
        contact.save(update_fields=["name", "updated_at"])
    return contact


def _contact_state(contact: Contact) -> dict:
    """What the audit log keeps of a contact, before and after a change."""
    return {
        "phone_number": contact.phone_number,
        "name": contact.name,
        "attributes": contact.attributes,
    }


def _contact_audit(
    *,
    action: str,
    contact: Contact,
    actor: AbstractBaseUser | None,
    api_key: ApiKey | None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    audit_record(
        action=action,
        project=contact.project,
        actor=actor if getattr(actor, "pk", None) is not None else None,
        api_key=api_key,
        target=f"{contact.pk} {contact.phone_number}",
        data={"before": before, "after": after},
    )


def contact_create(
    *,
    project: Project,
    phone_number: str,
    name: str = "",
    attributes: dict | None = None,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Contact:
    """A new contact; a number the project already has is refused (409) with the existing one's id."""
    capability_require(project=project, capability="contact.edit", actor=actor, api_key=api_key)
    number = phone_normalize(phone_number, field="phone_number", region=project.default_region)
    existing = Contact.objects.filter(project=project, phone_number=number).first()
    if existing is not None:
        raise _contact_exists(existing)
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                project=project,
                phone_number=number,
                name=name.strip()[:120],
                attributes=attributes or {},
            )
    except IntegrityError as exc:  # created by a concurrent request in between
        raise _contact_exists(Contact.objects.get(project=project, phone_number=number)) from exc
    contact.opted_out_at = contacts_opt_out_mirror(project=project, numbers=[number]).get(number)
    _contact_audit(
        action="contact.create",
        contact=contact,
        actor=actor,
        api_key=api_key,
        after=_contact_state(contact),
    )
    return contact


def contact_update(
    *,
    contact: Contact,
    phone_number: str | None = None,
    name: str | None = None,
    attributes: dict | None = None,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Contact:
    capability_require(
        project=contact.project, capability="contact.edit", actor=actor, api_key=api_key
    )
    before = _contact_state(contact)
    fields = ["updated_at"]
    if phone_number is not None:
        number = phone_normalize(
            phone_number, field="phone_number", region=contact.project.default_region
        )
        other = (
            Contact.objects.filter(project=contact.project, phone_number=number)
            .exclude(pk=contact.pk)
            .first()
        )
        if other is not None:
            raise _contact_exists(other)
        contact.phone_number = number
        fields.append("phone_number")
    if name is not None:
        contact.name = name.strip()[:120]
        fields.append("name")
    if attributes is not None:
        contact.attributes = attributes
        fields.append("attributes")
    contact.save(update_fields=fields)
    if "phone_number" in fields:
        # The suppression list goes by number: the new number's opt-out, or none.
        contact.opted_out_at = contacts_opt_out_mirror(
            project=contact.project, numbers=[contact.phone_number]
        ).get(contact.phone_number)
    after = _contact_state(contact)
    if after != before:
        _contact_audit(
            action="contact.update",
            contact=contact,
            actor=actor,
            api_key=api_key,
            before=before,
            after=after,
        )
    return contact


def contact_delete(
    *, contact: Contact, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> None:
    """Forget a contact: its name, groups and attributes. Its messages stay in the history
    and an opt-out stays on the suppression list (both go by number); audited."""
    capability_require(
        project=contact.project, capability="contact.edit", actor=actor, api_key=api_key
    )
    _contact_audit(
        action="contact.delete",
        contact=contact,
        actor=actor,
        api_key=api_key,
        before=_contact_state(contact),
    )
    contact.delete()


# --- bulk actions on the contact list ---------------------------------------------------


def _contacts_of(*, project: Project, contact_ids: Iterable[int]) -> QuerySet[Contact]:
    """The project's contacts among these ids (ids of another project are ignored)."""
    return Contact.objects.filter(project=project, pk__in=list(contact_ids))


@transaction.atomic
def contacts_group_add(
    *,
    project: Project,
    group: ContactGroup,
    contact_ids: Iterable[int],
    actor: AbstractBaseUser | None = None,
) -> int:
    """Put these contacts in the group (those already in it stay); how many were added; audited."""
    capability_require(project=project, capability="contact.edit", actor=actor)
    _group_check_project(project=project, group=group)
    contacts = _contacts_of(project=project, contact_ids=contact_ids).exclude(groups=group)
    added = list(contacts.values_list("pk", flat=True))
    Contact.groups.through.objects.bulk_create(
        [Contact.groups.through(contact_id=pk, contactgroup_id=group.pk) for pk in added],
        ignore_conflicts=True,
    )
    if added:
        audit_record(
            action="contacts.group_add",
            project=project,
            actor=actor,
            target=group.name,
            data={"contact_ids": added},
        )
    return len(added)


@transaction.atomic
def contacts_group_remove(
    *,
    project: Project,
    group: ContactGroup,
    contact_ids: Iterable[int],
    actor: AbstractBaseUser | None = None,
) -> int:
    """Take these contacts out of the group; how many were in it; audited."""
    capability_require(project=project, capability="contact.edit", actor=actor)
    _group_check_project(project=project, group=group)
    contacts = _contacts_of(project=project, contact_ids=contact_ids)
    links = Contact.groups.through.objects.filter(contactgroup=group, contact__in=contacts)
    removed_ids = list(links.values_list("contact_id", flat=True))
    links.delete()
    if removed_ids:
        audit_record(
            action="contacts.group_remove",
            project=project,
            actor=actor,
            target=group.name,
            data={"contact_ids": removed_ids},
        )
    return len(removed_ids)


def contacts_opt_out(
    *, project: Project, contact_ids: Iterable[int], actor: AbstractBaseUser | None = None
) -> int:
    """Put these contacts' numbers on the suppression list (each through `opt_out_record`,
    audited); how many were not on it yet."""
    capability_require(project=project, capability="contact.edit", actor=actor)
    numbers = list(
        _contacts_of(project=project, contact_ids=contact_ids)
        .filter(opted_out_at__isnull=True)
        .values_list("phone_number", flat=True)
    )
    for number in numbers:
        opt_out_record(
            project=project, phone_number=number, source=OptOut.Source.PERSON, actor=actor
        )
    return len(numbers)


def _group_check_project(*, project: Project, group: ContactGroup) -> None:
    if group.project_id != project.pk:
        raise NotFound(_("No such group in this project."), code="group_not_found")


# --- the suppression list ---------------------------------------------------------------


@transaction.atomic
def opt_out_record(
    *,
    project: Project,
    phone_number: str,
    source: str = OptOut.Source.CUSTOMER,
    actor: AbstractBaseUser | None = None,
) -> OptOut:
    """Put a number (stored form) on the project's suppression list (the customer's STOP, or
    a member by hand); its contact shows it; audited."""
    capability_require(project=project, capability="contact.edit", actor=actor)
    after_template_id = None
    if source == OptOut.Source.CUSTOMER:
        after_template_id = _last_template_sent(project=project, phone_number=phone_number)
    opt_out, created = OptOut.objects.get_or_create(
        project=project,
        phone_number=phone_number,
        defaults={"source": source, "after_template_id": after_template_id},
    )
    contacts_opt_out_mirror(project=project, numbers=[phone_number])
    if created:
        webhook_events_emit(
            [
                contact_webhook_event(
                    project_id=project.pk,
                    phone_number=phone_number,
                    opted_out=True,
                    source=source,
                    occurred_at=opt_out.created_at,
                )
            ]
        )
        audit_record(
            action="contact.opt_out",
            project=project,
            actor=actor,
            target=phone_number,
            data={"source": source},
        )
    return opt_out


# A STOP within these days of a template message is counted as an opt-out after that template.
OPT_OUT_ATTRIBUTION_DAYS = 7


def _last_template_sent(*, project: Project, phone_number: str) -> int | None:
    """The template of the newest template message sent to the number in the attribution days."""
    since = timezone.now() - timedelta(days=OPT_OUT_ATTRIBUTION_DAYS)
    return (
        Message.objects.filter(
            project=project,
            phone_number=phone_number,
            direction=Message.Direction.OUTGOING,
            created_at__gte=since,
            template__isnull=False,
        )
        .order_by("-created_at", "-id")
        .values_list("template_id", flat=True)
        .first()
    )


@transaction.atomic
def opt_out_remove(
    *, project: Project, phone_number: str, actor: AbstractBaseUser | None = None
) -> bool:
    """Take a number off the suppression list (the customer's START, or a member by hand);
    whether it was on it; audited."""
    capability_require(project=project, capability="contact.edit", actor=actor)
    deleted, _ = OptOut.objects.filter(project=project, phone_number=phone_number).delete()
    contacts_opt_out_mirror(project=project, numbers=[phone_number])
    if deleted:
        webhook_events_emit(
            [
                contact_webhook_event(
                    project_id=project.pk,
                    phone_number=phone_number,
                    opted_out=False,
                    source="person" if actor is not None else "customer",
                    occurred_at=timezone.now(),
                )
            ]
        )
        audit_record(
            action="contact.opt_in",
            project=project,
            actor=actor,
            target=phone_number,
            data={"source": "person" if actor is not None else "customer"},
        )
    return bool(deleted)


def number_opted_out(*, project: Project, phone_number: str) -> bool:
    """Whether the number is on the project's suppression list (with or without a contact)."""
    return OptOut.objects.filter(project=project, phone_number=phone_number).exists()


def contacts_opt_out_mirror(*, project: Project, numbers: Iterable[str]) -> dict:
    """Make these numbers' contacts show the suppression list (`opted_out_at`, or None), in
    one UPDATE; {number: when it opted out} for the numbers on the list."""
    numbers = list(numbers)
    if not numbers:
        return {}
    on_list = OptOut.objects.filter(project=project, phone_number=OuterRef("phone_number"))
    Contact.objects.filter(project=project, phone_number__in=numbers).update(
        opted_out_at=Subquery(on_list.values("created_at")[:1])
    )
    return dict(
        OptOut.objects.filter(project=project, phone_number__in=numbers).values_list(
            "phone_number", "created_at"
        )
    )


def _contact_exists(existing: Contact) -> Conflict:
    return Conflict(
        _("%(number)s is already a contact of this project (id %(id)s).")
        % {"number": existing.phone_number, "id": existing.pk},
        code="contact_exists",
        field="phone_number",
        extra={"contact_id": existing.pk},
    )


# --- groups -----------------------------------------------------------------------------


def group_names_parse(text: str) -> list[str]:
    """The group names in a text (separated by `GROUP_SEPARATORS`), trimmed, without repeats."""
    for separator in GROUP_SEPARATORS:
        text = text.replace(separator, ",")
    names: list[str] = []
    for part in text.split(","):
        name = " ".join(part.split())[:100]
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return names


def _groups_get_or_create(*, project: Project, names: Iterable[str]) -> list[ContactGroup]:
    groups = []
    for name in names:
        group = ContactGroup.objects.filter(project=project, name__iexact=name).first()
        if group is None:
            group = ContactGroup.objects.create(project=project, name=name)
        groups.append(group)
    return groups


def contact_groups_set(*, contact: Contact, group_names: str) -> None:
    """Put the contact in exactly these groups (names split by `group_names_parse`; new ones
    are created)."""
    contact.groups.set(
        _groups_get_or_create(project=contact.project, names=group_names_parse(group_names))
    )


@transaction.atomic
def contact_save(
    *,
    project: Project,
    phone_number: str,
    name: str = "",
    group_names: str = "",
    contact: Contact | None = None,
    actor: AbstractBaseUser | None = None,
) -> Contact:
    """The contact form's save: create (or edit `contact`) and set its groups, in one transaction.

    The number rules are `contact_create` / `contact_update`'s; this adds only the groups.
    """
    if contact is None:
        contact = contact_create(project=project, phone_number=phone_number, name=name, actor=actor)
    else:
        if contact.project_id != project.pk:
            raise NotFound(_("No such contact in this project."), code="contact_not_found")
        contact = contact_update(contact=contact, phone_number=phone_number, name=name, actor=actor)
    contact_groups_set(contact=contact, group_names=group_names)
    return contact
