"""Developers make and revoke their project's API keys in the portal (no Django admin needed)."""

import re

import pytest

from projects.models import ApiKey, AuditEvent, api_key_hash
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer_client(client, project):
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    client.force_login(developer)
    return client


def test_a_developer_creates_a_key_sees_it_once_and_it_works(developer_client, project, client):
    # When a developer creates a key
    response = developer_client.post("/api-keys/", {"name": "order service"})
    page = response.content.decode()
    raw = re.search(r"wp_[A-Za-z0-9_-]{40,}", page).group(0)
    # Then it is shown on that answer only, stored as a hash, and audited
    key = ApiKey.objects.get(project=project, name="order service")
    assert key.hashed_key == api_key_hash(raw)
    assert response["Cache-Control"] == "no-store"
    assert raw not in "".join(c.value for c in response.cookies.values())
    assert raw not in developer_client.get("/api-keys/").content.decode()
    assert AuditEvent.objects.filter(action="api_key.create", project=project).exists()
    # And it works on the API
    assert (
        developer_client.get("/api/v1/messages/", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code
        == 200
    )


def test_revoking_a_key_makes_the_api_refuse_it(developer_client, project):
    developer_client.post("/api-keys/", {"name": "old"})
    key = ApiKey.objects.get(name="old")
    response = developer_client.post(f"/api-keys/{key.pk}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_an_empty_name_is_refused_on_the_field(developer_client):
    page = developer_client.post("/api-keys/", {"name": "  "}).content.decode()
    assert "This field is required." in page
    assert not ApiKey.objects.exists()


def test_marketing_may_not_manage_keys(marketer_client):
    response = marketer_client.get("/api-keys/")
    assert response.status_code == 403
    assert "only admin and developer members may." in response.content.decode()


def test_another_projects_key_cannot_be_revoked(developer_client):
    from projects.services import api_key_create

    theirs = api_key_create(project=factories.ProjectFactory(), name="theirs").api_key
    assert developer_client.post(f"/api-keys/{theirs.pk}/revoke/").status_code == 404
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None
    assert "theirs" not in developer_client.get("/api-keys/").content.decode()
