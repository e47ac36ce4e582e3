"""`/api/v1/contacts/imports/`: start an import (202 at once), then follow it to its refused rows."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from messaging.models import Contact, ContactImport
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/imports/"


def test_an_import_answers_202_at_once_and_its_progress_shows_every_figure(
    api_client, project, django_capture_on_commit_callbacks
):
    content = b"name,phone,group\nBudi,081234567001,VIP\nAlice,+1 415 555 2671,\nBad,12,\n"
    # When a file is posted
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(
            URL, {"file": SimpleUploadedFile("c.csv", content)}, format="multipart"
        )
    # Then the answer is the queued import, before any row is read
    assert response.status_code == 202
    assert response.json() == {"id": response.json()["id"], "status": "queued"}
    assert not Contact.objects.exists()
    assert ContactImport.objects.get().api_key is not None
    # And once its task has run
    for callback in callbacks:
        callback()
    body = api_client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "done"
    assert (body["total_rows"], body["imported"], body["updated"], body["refused"]) == (3, 2, 0, 1)
    assert body["refusals"] == [
        {"row": 4, "value": "12", "reason": "'12' is not a valid phone number: it is too short."}
    ]
    assert body["refusals_shown"] == 1


def test_the_answer_lists_the_first_refusals_and_counts_them_all(
    api_client, project, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("messaging.contacts.imports.IMPORT_REFUSALS_SHOWN", 2)
    content = b"phone\n" + b"12\n" * 5
    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post(
            URL, {"file": SimpleUploadedFile("c.csv", content)}, format="multipart"
        ).json()
    body = api_client.get(f"{URL}{started['id']}/").json()
    assert body["refused"] == 5
    assert [refusal["row"] for refusal in body["refusals"]] == [2, 3]
    assert body["refusals_shown"] == 2


def test_another_file_type_is_refused_on_its_field(api_client):
    response = api_client.post(
        URL, {"file": SimpleUploadedFile("c.pdf", b"%PDF")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "import_file_type"
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert not ContactImport.objects.exists()


def test_no_file_is_a_400(api_client):
    response = api_client.post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_an_unreadable_file_is_a_failed_import_with_its_reason(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post(
            URL,
            {"file": SimpleUploadedFile("c.csv", b"name,email\nBudi,b@example.com\n")},
            format="multipart",
        ).json()
    body = api_client.get(f"{URL}{started['id']}/").json()
    assert body["status"] == "failed"
    assert "name the columns" in body["failure_reason"]


def test_another_projects_import_is_not_found(api_client, project):
    other = factories.ProjectFactory()
    theirs = ContactImport.objects.create(
        project=other, original_filename="x.csv", file="contact-imports/x.csv"
    )
    response = api_client.get(f"{URL}{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "contact_import_not_found"


def test_without_a_key_it_is_401(client):
    assert client.get(f"{URL}1/").status_code in (401, 403)
