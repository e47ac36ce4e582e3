"""Contacts from the web UI: groups, import from CSV/XLSX, export.

Built on the messaging services and selectors (`contact_create`, `contact_update`,
`contact_get_or_create`, `contact_list`): the number rules live there, once; this
module adds what only the web UI does with contacts.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from messaging.models import Contact, ContactGroup
from messaging.selectors import contact_list
from messaging.services import contact_create, contact_get_or_create, contact_update
from projects.models import Project
from wappin_portal.errors import NotFound, ValidationFailed
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


def _rows_from_csv(content: bytes) -> Iterator[list[str]]:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        text = content.decode("utf-16", errors="replace")
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("cp1252", errors="replace")
    # NULs are dropped: they are never data (a UTF-16 file without BOM reads right without them).
    text = text.replace("\x00", "")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": the csv module reads \r, \n and \r\n line ends (and newlines inside quotes) itself.
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from reader
    except csv.Error as exc:  # an unbalanced quote swallowing the rest of the file, ...
        raise ValidationFailed(
            f"The file is not valid CSV near line {reader.line_num} ({exc}): check its quotes.",
            field="file",
            code="import_unreadable",
        ) from exc


def _rows_from_xlsx(content: bytes) -> Iterator[list[object]]:
    from openpyxl import load_workbook

    unreadable = ValidationFailed(
        "This is not a readable Excel (.xlsx) file.", field="file", code="import_unreadable"
    )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise unreadable from exc
    try:
        for row in workbook.active.iter_rows(values_only=True):
            yield list(row)
    except Exception as exc:  # a sheet broken past the part load_workbook reads
        raise unreadable from exc
    finally:
        workbook.close()


def contact_rows_read(*, filename: str, content: bytes) -> Iterator[list[object]]:
    """The rows of an uploaded CSV or XLSX file, header first.

    Lazily read: a file that turns out unreadable raises ValidationFailed while iterating.
    """
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
    raise ValidationFailed("Upload a .csv or .xlsx file.", field="file", code="import_file_type")


def contact_import(*, project: Project, filename: str, content: bytes) -> ImportResult:
    """Create or update contacts from a file with columns name, phone and optionally group.

    Each row is written in its own transaction: a refused row writes nothing and
    does not stop the others. Row numbers in errors are the file's (header = row 1).
    """
    file_rows = contact_rows_read(filename=filename, content=content)
    header = next(file_rows, None)
    if header is None:
        raise ValidationFailed("The file is empty.", field="file", code="import_empty")
    columns = _header_map([_cell_text(cell) for cell in header])
    # Read the whole file (up to one row past the cap) before writing anything, so a
    # file that is broken half-way is refused whole instead of half-imported. Only the
    # cells up to the last named column are kept: a sheet thousands of columns wide
    # costs no more memory than three.
    width = max(columns.values()) + 1
    rows = [row[:width] for row in itertools.islice(file_rows, IMPORT_MAX_ROWS + 1)]
    result = ImportResult()
    for row_number, row in enumerate(rows, start=2):
        if row_number - 1 > IMPORT_MAX_ROWS:
            result.errors.append(
                ImportRowError(
                    row_number,
                    f"Only {IMPORT_MAX_ROWS} rows are read per file; the rest was skipped.",
                )
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
                created = not Contact.objects.filter(project=project, phone_number=number).exists()
                contact = contact_get_or_create(project=project, phone_number=number, name=name)
                if not created and name and contact.name != name:
                    contact_update(contact=contact, name=name)
                if group_names:
                    contact.groups.add(*_groups_get_or_create(project=project, names=group_names))
        except IntegrityError:
            result.errors.append(
                ImportRowError(row_number, f"{number} could not be saved; try again.")
            )
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
