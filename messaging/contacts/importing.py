"""Reading an uploaded contacts file (CSV or XLSX): its rows, its header's columns, its cells.

Nothing here writes: `services.contact_import` turns the rows into contacts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from wappin_portal.errors import ValidationFailed

IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 50_000
# The header names a file may use for each column (lowercase, spaces and '-' read as '_').
IMPORT_COLUMNS = {
    "name": ("name", "nama", "full_name"),
    "phone": ("phone", "phone_number", "number", "nomor", "whatsapp", "msisdn"),
    "group": ("group", "groups", "grup"),
}


def import_columns(header: list[str]) -> dict[str, int]:
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


def cell_text(value: object) -> str:
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
    raise ValidationFailed(
        "Upload a .csv or .xlsx file.", field="file", code="import_file_type"
    )
