"""The import's progress page: it polls itself while the import runs, then shows the refused rows."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from messaging.models import ContactImport

pytestmark = pytest.mark.django_db


def test_the_page_polls_while_queued_and_stops_with_the_refusals_when_done(
    marketer_client, project, django_capture_on_commit_callbacks
):
    content = b"name,phone\nBudi,081234567001\nBad,=1+2\n"
    # Given an uploaded file whose import has not run yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = marketer_client.post(
            "/contacts/import/", {"file": SimpleUploadedFile("c.csv", content)}
        )
    assert response.status_code == 302
    page = marketer_client.get(response["Location"]).content.decode()
    # Then its page loads htmx and asks for the progress fragment every second
    assert "js/htmx.min.js" in page
    assert 'hx-trigger="every 1s"' in page
    assert "Waiting to start" in page
    # When the import has run
    for callback in callbacks:
        callback()
    contact_import = ContactImport.objects.get()
    fragment = marketer_client.get(
        f"/contacts/imports/{contact_import.pk}/progress/"
    ).content.decode()
    # Then the fragment stops polling and lists the refused row, with the CSV link
    assert "hx-trigger" not in fragment
    assert "1 imported, 0 updated, 1 refused" in fragment
    assert "<td>3</td>" in fragment and "<code>=1+2</code>" in fragment
    assert "Download refusals (CSV)" in fragment
    download = marketer_client.get(f"/contacts/imports/{contact_import.pk}/refusals.csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["row", "value", "reason"]
    # A value that looks like a formula is defused for spreadsheets
    assert rows[1][:2] == ["3", "'=1+2"]


def test_the_import_page_lists_recent_imports(
    marketer_client, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(
            "/contacts/import/", {"file": SimpleUploadedFile("march.csv", b"phone\n081234567001\n")}
        )
    page = marketer_client.get("/contacts/import/").content.decode()
    assert "march.csv" in page and "Recent imports" in page


def test_another_projects_import_page_is_404(marketer_client):
    from tests import factories

    other = factories.ProjectFactory()
    theirs = ContactImport.objects.create(
        project=other, original_filename="x.csv", file="contact-imports/x.csv"
    )
    assert marketer_client.get(f"/contacts/imports/{theirs.pk}/").status_code == 404
    assert marketer_client.get(f"/contacts/imports/{theirs.pk}/refusals.csv").status_code == 404
