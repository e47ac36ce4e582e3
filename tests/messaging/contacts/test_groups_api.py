"""`/api/v1/groups/`: CRUD of {"id", "name", "contact_count"}, project-scoped, 409 on a taken name."""

from __future__ import annotations

import pytest

from messaging.models import Blast, ContactGroup
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/groups/"


def test_groups_are_listed_by_name_with_their_contact_count(api_client, project):
    vip = ContactGroup.objects.create(project=project, name="VIP")
    ContactGroup.objects.create(project=project, name="Jakarta")
    for n in range(3):
        factories.ContactFactory(project=project, phone_number=f"62812345670{n:02d}").groups.add(
            vip
        )
    ContactGroup.objects.create(project=factories.ProjectFactory(), name="Theirs")
    body = api_client.get(URL).json()
    assert body["results"] == [
        {"id": body["results"][0]["id"], "name": "Jakarta", "contact_count": 0},
        {"id": vip.pk, "name": "VIP", "contact_count": 3},
    ]


def test_a_group_is_created_renamed_read_and_deleted(api_client, project):
    created = api_client.post(URL, {"name": "  Loyal   customers "}, format="json")
    assert created.status_code == 201
    group = created.json()
    assert group == {"id": group["id"], "name": "Loyal customers", "contact_count": 0}
    renamed = api_client.patch(f"{URL}{group['id']}/", {"name": "Loyal"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Loyal"
    assert (
        api_client.put(f"{URL}{group['id']}/", {"name": "Loyal 2"}, format="json").json()["name"]
        == "Loyal 2"
    )
    assert api_client.get(f"{URL}{group['id']}/").json()["name"] == "Loyal 2"
    assert api_client.delete(f"{URL}{group['id']}/").status_code == 204
    assert api_client.get(f"{URL}{group['id']}/").status_code == 404


def test_a_name_the_project_has_whatever_its_case_is_a_409(api_client, project):
    ContactGroup.objects.create(project=project, name="VIP")
    other = ContactGroup.objects.create(project=project, name="Jakarta")
    created = api_client.post(URL, {"name": "vip"}, format="json")
    assert created.status_code == 409
    assert created.json()["error"]["code"] == "group_name_taken"
    renamed = api_client.patch(f"{URL}{other.pk}/", {"name": "VIP"}, format="json")
    assert renamed.status_code == 409
    # Its own name in another case is a rename, not a conflict
    assert (
        api_client.patch(f"{URL}{other.pk}/", {"name": "JAKARTA"}, format="json").status_code == 200
    )


def test_a_blank_or_too_long_name_is_a_400(api_client):
    assert api_client.post(URL, {"name": "   "}, format="json").status_code == 400
    assert api_client.post(URL, {"name": "x" * 101}, format="json").status_code == 400


def test_another_projects_group_is_not_found(api_client):
    theirs = ContactGroup.objects.create(project=factories.ProjectFactory(), name="Theirs")
    assert api_client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api_client.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert ContactGroup.objects.filter(pk=theirs.pk).exists()


def test_a_group_a_blast_was_sent_to_is_kept(api_client, project):
    group = ContactGroup.objects.create(project=project, name="VIP")
    Blast.objects.create(
        project=project, name="Promo", template_name="promo", language_code="id", group=group
    )
    response = api_client.delete(f"{URL}{group.pk}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "group_in_use"
    assert ContactGroup.objects.filter(pk=group.pk).exists()
