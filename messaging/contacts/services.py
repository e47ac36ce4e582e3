"""Contacts from the web UI: groups, the import's column rules, export (the import itself: `imports.py`).

Built on the messaging services and selectors (`contact_create`, `contact_update`,
`contact_get_or_create`, `contact_list`): the number rules live there, once; this
module adds what only the web UI does with contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import QuerySet

from messaging.models import Contact, ContactGroup
from messaging.selectors import contact_list
from messaging.services import contact_create, contact_update
from projects.models import Project
from wappin_portal.errors import NotFound, ValidationFailed

# The header names a file may use for each column (lowercase, spaces and '-' read as '_').
IMPORT_COLUMNS = {
    "name": ("name", "nama", "full_name"),
    "phone": ("phone", "phone_number", "number", "nomor", "whatsapp", "msisdn"),
    "group": ("group", "groups", "grup"),
}
GROUP_SEPARATORS = (";", "|")


def _groups_parse(text: str) -> list[str]:
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


def contact_list_ordered(
    *, project: Project, query: str = "", group_id: int | None = None
) -> QuerySet[Contact]:
    """The contacts page's rows: `selectors.contact_list`'s search and group filter, by name."""
    contacts = contact_list(project=project, filters={"search": query, "group": group_id})
    return contacts.order_by("name", "phone_number", "id")


def contact_groups_set(*, contact: Contact, group_names: str) -> None:
    """Put the contact in exactly these groups (comma-separated names; new ones are created)."""
    contact.groups.set(
        _groups_get_or_create(project=contact.project, names=_groups_parse(group_names))
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

    The number rules (normalised, unique within the project) are the messaging
    services' `contact_create` / `contact_update`; this adds only the groups.
    """
    if contact is None:
        contact = contact_create(project=project, phone_number=phone_number, name=name)
    else:
        if contact.project_id != project.pk:
            raise NotFound("No such contact in this project.", code="contact_not_found")
        contact = contact_update(contact=contact, phone_number=phone_number, name=name)
    contact_groups_set(contact=contact, group_names=group_names)
    return contact


def _header_map(header: list[str]) -> dict[str, int]:
    """Column name -> index, from the header row; raises when there is no phone column."""
    normalised = [
        str(cell or "").strip().lower().replace(" ", "_").replace("-", "_") for cell in header
    ]
    columns: dict[str, int] = {}
    for column, aliases in IMPORT_COLUMNS.items():
        for index, title in enumerate(normalised):
            if title in aliases:
                columns[column] = index
                break
    if "phone" not in columns:
        raise ValidationFailed(
            "The file's first row must name the columns: name, phone and optionally group.",
            field="file",
            code="import_no_phone_column",
        )
    return columns


def _cell_text(value: object) -> str:
    # Spreadsheets store numbers as floats: 6281234567001.0 is a phone number, not a decimal.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # NUL never belongs in a name or number, and PostgreSQL refuses to store it.
    return "" if value is None else str(value).replace("\x00", "").strip()


CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def contact_export_rows(*, contacts: QuerySet[Contact]) -> Iterator[list[str]]:
    """Header and one row per contact, in the import's columns (so an export imports back)."""
    yield ["name", "phone", "group", "opted_out_at"]
    for contact in contacts.prefetch_related("groups").iterator(chunk_size=2000):
        yield [
            csv_safe(contact.name),
            contact.phone_number,
            csv_safe("; ".join(group.name for group in contact.groups.all())),
            contact.opted_out_at.isoformat() if contact.opted_out_at else "",
        ]
