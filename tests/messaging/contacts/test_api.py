"""The contacts endpoints: create, change, delete, list and filters, the project boundary."""

from __future__ import annotations

from django.utils import timezone

import pytest

from messaging.models import Contact
from tests import factories

pytestmark = pytest.mark.django_db


def test_contact_create_normalises_the_number(api_client, project):
    response = api_client.post(
        "/api/v1/contacts/", {"phone_number": "+62 812-3456-7890", "name": "Sari"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["phone_number"] == "6281234567890"
    assert Contact.objects.get().project == project


def test_duplicate_contact_is_refused_with_409_and_names_the_existing_one(api_client, customer):
    response = api_client.post("/api/v1/contacts/", {"phone_number": "081234567890"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "contact_exists"
    assert error["contact_id"] == customer.pk


def test_contact_with_an_invalid_number_is_refused_with_the_reason(api_client):
    response = api_client.post("/api/v1/contacts/", {"phone_number": "12ab"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["phone_number"]


def test_contact_opt_out_is_visible_and_filterable(api_client, project):
    factories.ContactFactory(project=project, opted_out_at=timezone.now())
    factories.ContactFactory(project=project)
    page = api_client.get("/api/v1/contacts/", {"opted_out": "true"}).json()
    assert len(page["results"]) == 1
    assert page["results"][0]["is_opted_out"] is True


def test_contact_update_and_delete(api_client, customer):
    response = api_client.patch(
        f"/api/v1/contacts/{customer.pk}/", {"name": "Sari W."}, format="json"
    )
    assert response.json()["name"] == "Sari W."
    assert api_client.delete(f"/api/v1/contacts/{customer.pk}/").status_code == 204
    assert not Contact.objects.exists()


def test_another_projects_contact_is_not_found(api_client):
    other = factories.ContactFactory()
    assert api_client.get(f"/api/v1/contacts/{other.pk}/").status_code == 404
    assert api_client.delete(f"/api/v1/contacts/{other.pk}/").status_code == 404
    assert Contact.objects.filter(pk=other.pk).exists()


def test_a_contact_deleted_through_the_api_is_audited_with_its_key(api_client, api_key, project):
    from projects.models import AuditEvent

    contact = factories.ContactFactory(project=project, phone_number="6281200000077")
    assert api_client.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 204
    event = AuditEvent.objects.get(action="contact.delete")
    assert (event.api_key, event.actor) == (api_key[1], None)
    assert event.target == f"{contact.pk} 6281200000077"
    assert event.data["before"]["phone_number"] == "6281200000077"


def test_the_list_without_a_filter_has_opted_out_contacts_too(api_client, project):
    # Given a contact who sent STOP and one who did not
    stopped = factories.ContactFactory(project=project, opted_out_at=timezone.now())
    kept = factories.ContactFactory(project=project)

    # When the list is asked without `opted_out`, then with it
    every = api_client.get("/api/v1/contacts/").json()["results"]
    only_stopped = api_client.get("/api/v1/contacts/?opted_out=true").json()["results"]
    only_kept = api_client.get("/api/v1/contacts/?opted_out=false").json()["results"]

    # Then no filter means everyone
    assert {row["id"] for row in every} == {stopped.pk, kept.pk}
    assert [row["id"] for row in only_stopped] == [stopped.pk]
    assert [row["id"] for row in only_kept] == [kept.pk]
