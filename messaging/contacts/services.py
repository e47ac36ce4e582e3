"""Writes on contacts: create, change, delete, their groups (the import from a file: `imports.py`).

The number rules (normalised, unique within the project) live here, once: the
API, the contact form, the import, the sending services and the callbacks all
go through `contact_create` / `contact_update` / `contact_get_or_create`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from messaging.models import Contact, ContactGroup, OptOut
from projects.models import ApiKey, Project
from projects.services import audit_record
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


def contact_create(
    *, project: Project, phone_number: str, name: str = "", attributes: dict | None = None
) -> Contact:
    """A new contact; a number the project already has is refused (409) with the existing one's id."""
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
    return contact


def contact_update(
    *,
    contact: Contact,
    phone_number: str | None = None,
    name: str | None = None,
    attributes: dict | None = None,
) -> Contact:
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
    return contact


def contact_delete(
    *, contact: Contact, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> None:
    """Forget a contact: its name, groups and attributes. Its messages stay in the history
    and an opt-out stays on the suppression list (both go by number); audited."""
    project, number = contact.project, contact.phone_number
    contact.delete()
    audit_record(
        action="contact.delete", project=project, actor=actor, api_key=api_key, target=number
    )


# --- bulk actions on the contact list ---------------------------------------------------


def _contacts_of(*, project: Project, contact_ids: Iterable[int]) -> QuerySet[Contact]:
    """The project's contacts among these ids (ids of another project are ignored)."""
    return Contact.objects.filter(project=project, pk__in=list(contact_ids))


def contacts_group_add(*, project: Project, group: ContactGroup, contact_ids: Iterable[int]) -> int:
    """Put these contacts in the group (those already in it stay); how many were added."""
    _group_check_project(project=project, group=group)
    contacts = _contacts_of(project=project, contact_ids=contact_ids).exclude(groups=group)
    added = list(contacts.values_list("pk", flat=True))
    Contact.groups.through.objects.bulk_create(
        [Contact.groups.through(contact_id=pk, contactgroup_id=group.pk) for pk in added],
        ignore_conflicts=True,
    )
    return len(added)


def contacts_group_remove(
    *, project: Project, group: ContactGroup, contact_ids: Iterable[int]
) -> int:
    """Take these contacts out of the group; how many were in it."""
    _group_check_project(project=project, group=group)
    contacts = _contacts_of(project=project, contact_ids=contact_ids)
    removed, _ = Contact.groups.through.objects.filter(
        contactgroup=group, contact__in=contacts
    ).delete()
    return removed


def contacts_opt_out(
    *, project: Project, contact_ids: Iterable[int], actor: AbstractBaseUser | None = None
) -> int:
    """Put these contacts' numbers on the suppression list (each through `opt_out_record`,
    audited); how many were not on it yet."""
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
    opt_out, created = OptOut.objects.get_or_create(
        project=project, phone_number=phone_number, defaults={"source": source}
    )
    contacts_opt_out_mirror(project=project, numbers=[phone_number])
    if created:
        audit_record(
            action="contact.opt_out",
            project=project,
            actor=actor,
            target=phone_number,
            data={"source": source},
        )
    return opt_out


@transaction.atomic
def opt_out_remove(
    *, project: Project, phone_number: str, actor: AbstractBaseUser | None = None
) -> bool:
    """Take a number off the suppression list (the customer's START, or a member by hand);
    whether it was on it; audited."""
    deleted, _ = OptOut.objects.filter(project=project, phone_number=phone_number).delete()
    contacts_opt_out_mirror(project=project, numbers=[phone_number])
    if deleted:
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
        f"{existing.phone_number} is already a contact of this project (id {existing.pk}).",
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
) -> Contact:
    """The contact form's save: create (or edit `contact`) and set its groups, in one transaction.

    The number rules are `contact_create` / `contact_update`'s; this adds only the groups.
    """
    if contact is None:
        contact = contact_create(project=project, phone_number=phone_number, name=name)
    else:
        if contact.project_id != project.pk:
            raise NotFound("No such contact in this project.", code="contact_not_found")
        contact = contact_update(contact=contact, phone_number=phone_number, name=name)
    contact_groups_set(contact=contact, group_names=group_names)
    return contact
