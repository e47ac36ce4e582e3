"""The contact import's progress page, its live fragment (polled by htmx) and the refusals CSV.

Starting an import is the contact import form's view (`messaging.views_ui.contact_import_view`),
which redirects here.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from messaging.contacts import imports
from messaging.models import ContactImport
from projects.ui import project_page
from wappin_portal.csv_export import csv_response
from wappin_portal.errors import NotFound

# How often the progress fragment asks again while the import runs.
POLL_SECONDS = 1


def _contact_import(request: HttpRequest, pk: int) -> ContactImport:
    from django.http import Http404

    try:
        return imports.contact_import_get(project=request.project, import_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _context(request: HttpRequest, contact_import: ContactImport) -> dict:
    refusals = []
    if contact_import.is_finished:
        refusals = list(
            imports.contact_import_refusals(contact_import=contact_import)[
                : imports.IMPORT_REFUSALS_SHOWN
            ]
        )
    return {
        "project": request.project,
        "contact_import": contact_import,
        "refusals": refusals,
        "poll_seconds": POLL_SECONDS,
    }


@require_GET
@project_page()
def contact_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact_import = _contact_import(request, pk)
    return render(
        request, "messaging/contact_import_detail.html", _context(request, contact_import)
    )


@require_GET
@project_page()
def contact_import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the progress page: htmx swaps it in every second until the import ends."""
    contact_import = _contact_import(request, pk)
    return render(
        request, "messaging/_contact_import_progress.html", _context(request, contact_import)
    )


@require_GET
@project_page()
def contact_import_refusals_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    contact_import = _contact_import(request, pk)
    rows = imports.contact_import_refusal_rows(contact_import=contact_import)
    return csv_response(rows, f"contact-import-{contact_import.pk}-refusals.csv")
