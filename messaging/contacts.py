"""Contacts from the web UI: add, edit, import from CSV/XLSX, export.

Kept apart from `messaging/services.py` (the sending engineer's module) while both
are being written; the functions follow the same rules (keyword-only, one error family).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from messaging.models import Contact, ContactGroup
from projects.models import Project
from wappin_portal.errors import ValidationFailed
from wappin_portal.phone import phone_normalize

IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 50_000
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


def contact_search(*, project: Project, query: str = "", group_id: int | None = None) -> QuerySet[Contact]:
    """The project's contacts whose name or number matches `query` ('0812…' finds '62812…')."""
    contacts = Contact.objects.filter(project=project).prefetch_related("groups")
    query = query.strip()
    if query:
        condition = Q(name__icontains=query)
        digits = "".join(ch for ch in query if ch.isdigit())
        if digits and all(ch.isdigit() or ch in " +-()" for ch in query):
            condition |= Q(phone_number__contains=digits)
            if digits.startswith("0"):
                condition |= Q(phone_number__startswith="62" + digits[1:])
        contacts = contacts.filter(condition)
    if group_id:
        contacts = contacts.filter(groups__id=group_id)
    return contacts.order_by("name", "phone_number", "id")


def contact_save(
    *,
    project: Project,
    phone_number: str,
    name: str = "",
    group_names: str = "",
    contact: Contact | None = None,
) -> Contact:
    """Create a contact (or edit `contact`): the number normalised, unique within the project."""
    number = phone_normalize(phone_number, field="phone_number")
    duplicate = Contact.objects.filter(project=project, phone_number=number)
    if contact is not None:
        duplicate = duplicate.exclude(pk=contact.pk)
    if duplicate.exists():
        raise ValidationFailed(
            f"A contact with the number {number} already exists in {project.name}.",
            field="phone_number",
            code="contact_duplicate",
        )
    if contact is None:
        contact = Contact(project=project)
    elif contact.project_id != project.pk:
        raise ValidationFailed("This contact belongs to another project.", code="contact_project")
    contact.phone_number = number
    contact.name = " ".join((name or "").split())[:120]
    try:
        with transaction.atomic():
            contact.save()
            contact.groups.set(_groups_get_or_create(project=project, names=_groups_parse(group_names)))
    except IntegrityError as exc:  # a concurrent save of the same number
        raise ValidationFailed(
            f"A contact with the number {number} already exists in {project.name}.",
            field="phone_number",
            code="contact_duplicate",
        ) from exc
    return contact


@dataclass
class ImportRowError:
    row: int
    reason: str


@dataclass
class ImportResult:
    imported: int = 0
    updated: int = 0
    errors: list[ImportRowError] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)

    @property
    def summary(self) -> str:
        return f"{self.imported} imported, {self.updated} updated, {self.refused} refused"


def _header_map(header: list[str]) -> dict[str, int]:
    """Column name -> index, from the header row; raises when there is no phone column."""
    normalised = [str(cell or "").strip().lower().replace(" ", "_").replace("-", "_") for cell in header]
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
    return "" if value is None else str(value).strip()


def _rows_from_csv(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _rows_from_xlsx(content: bytes) -> Iterator[list[object]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ValidationFailed(
            "This is not a readable Excel (.xlsx) file.", field="file", code="import_unreadable"
        ) from exc
    try:
        for row in workbook.active.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def contact_rows_read(*, filename: str, content: bytes) -> Iterator[list[object]]:
    """The rows of an uploaded CSV or XLSX file, header first."""
    if len(content) > IMPORT_MAX_BYTES:
        raise ValidationFailed(
            f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB: split it.",
            field="file",
            code="import_too_large",
        )
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return _rows_from_xlsx(content)
    if lower.endswith((".csv", ".txt")):
        return _rows_from_csv(content)
    raise ValidationFailed(
        "Upload a .csv or .xlsx file.", field="file", code="import_file_type"
    )


def contact_import(*, project: Project, filename: str, content: bytes) -> ImportResult:
    """Create or update contacts from a file with columns name, phone and optionally group.

    Each row is written in its own transaction: a refused row writes nothing and
    does not stop the others. Row numbers in errors are the file's (header = row 1).
    """
    rows = contact_rows_read(filename=filename, content=content)
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("The file is empty.", field="file", code="import_empty")
    columns = _header_map([_cell_text(cell) for cell in header])
    result = ImportResult()
    for row_number, row in enumerate(rows, start=2):
        if row_number - 1 > IMPORT_MAX_ROWS:
            result.errors.append(
                ImportRowError(row_number, f"Only {IMPORT_MAX_ROWS} rows are read per file; the rest was skipped.")
            )
            break
        cells = [_cell_text(cell) for cell in row]
        if not any(cells):
            continue

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index] if index is not None and index < len(cells) else ""

        try:
            number = phone_normalize(cell("phone"), field="phone")
        except ValidationFailed as exc:
            result.errors.append(ImportRowError(row_number, exc.message))
            continue
        name = " ".join(cell("name").split())[:120]
        group_names = _groups_parse(cell("group"))
        try:
            with transaction.atomic():
                contact, created = Contact.objects.select_for_update().get_or_create(
                    project=project, phone_number=number, defaults={"name": name}
                )
                if not created and name and contact.name != name:
                    contact.name = name
                    contact.save(update_fields=["name", "updated_at"])
                if group_names:
                    contact.groups.add(*_groups_get_or_create(project=project, names=group_names))
        except IntegrityError:
            result.errors.append(ImportRowError(row_number, f"{number} could not be saved; try again."))
            continue
        if created:
            result.imported += 1
        else:
            result.updated += 1
    return result


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
