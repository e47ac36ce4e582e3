"""Reading an uploaded contacts file (CSV or XLSX): its rows, its header's columns, its cells.

Streamed: a CSV through the csv module over a text wrapper, an XLSX with openpyxl's
read-only mode; neither is ever held whole. Nothing here writes: `imports.contact_import_run`
turns the rows into contacts.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

from wappin_portal.errors import ValidationFailed

# A million rows of name, phone and two groups is about 60 MB of CSV.
IMPORT_MAX_BYTES = 200 * 1024 * 1024
CSV_SNIFF_CHARS = 4096
# An XLSX is a zip: a part that unpacks past this size, or this many times its packed size,
# is refused before openpyxl reads it (one 150 MB cell packs into 158 KB, and openpyxl holds
# a cell and the shared strings whole). A real million-row contact sheet packs 5-15 times.
XLSX_PART_MAX_BYTES = 512 * 1024 * 1024
XLSX_PART_MAX_RATIO = 100
ENCODING_PROBE_BYTES = 1024 * 1024
# The header names a file may use for each column (lowercase, spaces and '-' read as '_').
IMPORT_COLUMNS = {
    "name": ("name", "nama", "full_name"),
    "phone": ("phone", "phone_number", "number", "nomor", "whatsapp", "msisdn"),
    "group": ("group", "groups", "grup"),
}


def import_columns(header: list[str]) -> dict[str, int]:
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
            _("The file's first row must name the columns: name, phone and optionally group."),
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


@dataclass(frozen=True)
class ImportRow:
    number: int  # the file's row number, the header being row 1
    phone: str
    name: str
    groups: str


def import_file_kind(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith((".csv", ".txt")):
        return "csv"
    raise ValidationFailed(_("Upload a .csv or .xlsx file."), field="file", code="import_file_type")


def _csv_encoding(binary: IO[bytes]) -> str:
    """UTF-16 by its BOM (Excel's "Unicode text"), else UTF-8 when the whole file decodes, else cp1252."""
    head = binary.read(2)
    binary.seek(0)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := binary.read(ENCODING_PROBE_BYTES):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        binary.seek(0)
    return "utf-8-sig"


def _rows_from_csv(binary: IO[bytes]) -> Iterator[list[str]]:
    encoding = _csv_encoding(binary)
    # newline="": the csv module reads \r, \n and \r\n line ends (and newlines inside quotes) itself.
    text = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
    try:
        sample = text.read(CSV_SNIFF_CHARS).replace("\x00", "")
        text.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        # NULs are dropped: they are never data (a UTF-16 file without BOM reads right without them).
        lines = (line.replace("\x00", "") for line in text)
        reader = csv.reader(lines, dialect)
        try:
            yield from reader
        except csv.Error as exc:  # an unbalanced quote swallowing the rest of the file, ...
            raise ValidationFailed(
                _("The file is not valid CSV near line %(line)d (%(error)s): check its quotes.")
                % {"line": reader.line_num, "error": exc},
                field="file",
                code="import_unreadable",
            ) from exc
    finally:
        if not text.closed:
            text.detach()  # the caller closes the file


def _rows_from_xlsx(binary: IO[bytes]) -> Iterator[tuple]:
    from openpyxl import load_workbook

    unreadable = ValidationFailed(
        _("This is not a readable Excel (.xlsx) file."), field="file", code="import_unreadable"
    )
    _xlsx_parts_check(binary, unreadable)
    try:
        # read_only: the sheet's XML is parsed as it is iterated, never loaded whole.
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise unreadable from exc
    try:
        yield from workbook.active.iter_rows(values_only=True)
    except Exception as exc:  # a sheet broken past the part load_workbook reads
        raise unreadable from exc
    finally:
        workbook.close()


def _xlsx_parts_check(binary: IO[bytes], unreadable: ValidationFailed) -> None:
    """Refuse a workbook with a part that would unpack into far more than a sheet of contacts."""
    import zipfile

    try:
        parts = zipfile.ZipFile(binary).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable from exc
    finally:
        binary.seek(0)
    for part in parts:
        unpacked, packed = part.file_size, max(part.compress_size, 1)
        if unpacked > XLSX_PART_MAX_BYTES or (
            unpacked > 10 * 1024 * 1024 and unpacked / packed > XLSX_PART_MAX_RATIO
        ):
            raise ValidationFailed(
                _(
                    "This workbook's %(part)s unpacks to %(size)d MB from %(packed)d KB: "
                    "far more than a sheet of contacts. Save it again, or as CSV."
                )
                % {"part": part.filename, "size": unpacked // 2**20, "packed": packed // 1024},
                field="file",
                code="import_unreadable",
            )


def import_rows(binary: IO[bytes], *, kind: str) -> Iterator[ImportRow | None]:
    """Each row after the header, in file order; None for a row with no cell in a named column."""
    rows = _rows_from_xlsx(binary) if kind == "xlsx" else _rows_from_csv(binary)
    try:
        header = next(rows, None)
        if header is None:
            raise ValidationFailed(_("The file is empty."), field="file", code="import_empty")
        columns = import_columns([cell_text(cell) for cell in header])
        phone_at, name_at, group_at = columns["phone"], columns.get("name"), columns.get("group")
        # Only the cells up to the last named column are read: a sheet thousands of columns
        # wide costs no more than three.
        width = max(columns.values()) + 1
        for number, row in enumerate(rows, start=2):
            cells = [cell_text(cell) for cell in row[:width]]
            if not any(cells):
                yield None
                continue
            cells += [""] * (width - len(cells))
            yield ImportRow(
                number=number,
                phone=cells[phone_at],
                name="" if name_at is None else cells[name_at],
                groups="" if group_at is None else cells[group_at],
            )
    finally:
        rows.close()  # while the file is still open
