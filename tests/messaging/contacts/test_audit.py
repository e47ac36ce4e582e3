"""Every change of a contact (create, edit, delete, import) and of a group is audited with who
made it (a person or an API key) and the contact before and after."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from projects.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _audit(project, action):
    return list(
        AuditEvent.objects.filter(project=project, action=action)
        .order_by("id")
        .values("actor__username", "api_key__name", "data")
    )


def test_the_api_audits_create_edit_and_delete_with_its_key(api_client, project):
    created = api_client.post(
        "/api/v1/contacts/", {"phone_number": "081234567001", "name": "Budi"}, format="json"
    ).json()
    api_client.patch(
        f"/api/v1/contacts/{created['id']}/", {"phone_number": "081234567002"}, format="json"
    )
    api_client.delete(f"/api/v1/contacts/{created['id']}/")

    budi = {"phone_number": "6281234567001", "name": "Budi", "attributes": {}}
    renumbered = {**budi, "phone_number": "6281234567002"}
    assert _audit(project, "contact.create") == [
        {"actor__username": None, "api_key__name": "tests", "data": {"before": None, "after": budi}}
    ]
    assert _audit(project, "contact.update")[0]["data"] == {"before": budi, "after": renumbered}
    assert _audit(project, "contact.delete")[0]["data"] == {"before": renumbered, "after": None}


def test_an_edit_that_changes_nothing_writes_no_row(api_client, project):
    contact = factories.ContactFactory(project=project, name="Budi")
    api_client.patch(f"/api/v1/contacts/{contact.pk}/", {"name": "Budi"}, format="json")
    assert _audit(project, "contact.update") == []


def test_the_contact_form_audits_with_the_person(marketer_client, marketer, project):
    marketer_client.post("/contacts/new/", {"phone_number": "081234567003", "name": "Siti"})
    [row] = _audit(project, "contact.create")
    assert row["actor__username"] == marketer.username
    assert row["data"]["after"]["phone_number"] == "6281234567003"


def test_groups_are_audited(api_client, project):
    group = api_client.post("/api/v1/groups/", {"name": "VIP"}, format="json").json()
    api_client.patch(f"/api/v1/groups/{group['id']}/", {"name": "Gold"}, format="json")
    api_client.delete(f"/api/v1/groups/{group['id']}/")
    assert [
        (event.action, event.data)
        for event in AuditEvent.objects.filter(
            project=project, action__startswith="group."
        ).order_by("id")
    ] == [
        ("group.create", {"after": "VIP"}),
        ("group.rename", {"before": "VIP", "after": "Gold"}),
        ("group.delete", {"before": "Gold"}),
    ]


def test_an_import_is_audited_when_it_starts_and_when_it_is_done(
    marketer_client, marketer, project, django_capture_on_commit_callbacks
):
    content = b"name,phone\nBudi,081234567001\nBad,12\n"
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post("/contacts/import/", {"file": SimpleUploadedFile("c.csv", content)})

    [started] = _audit(project, "contact.import")
    [done] = _audit(project, "contact.import_done")
    assert started["actor__username"] == done["actor__username"] == marketer.username
    assert done["data"] == {"rows": 2, "imported": 1, "updated": 0, "refused": 1}
