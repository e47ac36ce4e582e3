"""CSV files the pages export (contacts, message history): safe cells, streamed answers."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse

# OWASP's leading characters a spreadsheet reads as a formula (and their full-width forms,
# which some spreadsheets fold); tab, CR and LF start one after the whitespace is skipped.
CSV_FORMULA_PREFIXES = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection), even after leading
    whitespace (`"  =cmd|..."`): such a cell starts with a quote, shown as text."""
    text = "" if value is None else str(value)
    if text.startswith(CSV_FORMULA_PREFIXES) or text.lstrip().startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    """A CSV download streamed row by row, so a large export never sits in memory."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
