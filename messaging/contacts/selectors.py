"""Reads on contacts: the list and its filters, one contact, a group, the CSV export."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from messaging.models import Contact, ContactGroup
from projects.models import Project
from wappin_portal.csv_export import csv_safe
from wappin_portal.errors import NotFound


def contact_list(*, project: Project, filters: dict | None = None) -> QuerySet[Contact]:
    """A project's contacts; `search` matches name or number, `opted_out` true/false, `group` id."""
    filters = {key: value for key, value in (filters or {}).items() if value not in (None, "")}
    queryset = Contact.objects.filter(project=project).prefetch_related("groups")
    if "search" in filters:
        text = str(filters["search"]).strip()
        digits = "".join(ch for ch in text if ch.isdigit()).lstrip("0")
        condition = Q(name__icontains=text)
        if digits:
            condition |= Q(phone_number__contains=digits)
        queryset = queryset.filter(condition)
    if "opted_out" in filters:
        opted_out = str(filters["opted_out"]).lower() in ("1", "true", "yes")
        queryset = queryset.filter(opted_out_at__isnull=not opted_out)
    if "group" in filters:
        queryset = queryset.filter(groups__pk=filters["group"])
    return queryset


def contact_get(*, project: Project, contact_id: int) -> Contact:
    try:
        return Contact.objects.prefetch_related("groups").get(project=project, pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such contact in this project."), code="contact_not_found") from exc


def contact_list_ordered(
    *, project: Project, query: str = "", group_id: int | None = None
) -> QuerySet[Contact]:
    """The contacts page's rows: `selectors.contact_list`'s search and group filter, by name."""
    contacts = contact_list(project=project, filters={"search": query, "group": group_id})
    return contacts.order_by("name", "phone_number", "id")


def contact_group_find(*, project: Project, group_id: object) -> ContactGroup | None:
    """The project's group of that id (as a form posted it), or None for anything else."""
    group_id = str(group_id or "").strip()
    if not group_id.isdigit():
        return None
    return ContactGroup.objects.filter(project=project, pk=group_id).first()


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
