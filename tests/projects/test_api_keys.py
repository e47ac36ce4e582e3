import pytest

from projects.models import ApiKey
from projects.services import api_key_revoke

pytestmark = pytest.mark.django_db


def test_api_key_is_stored_hashed_and_shown_once(api_key):
    raw, key = api_key
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.hashed_key, stored.prefix, stored.name)
    assert raw.startswith("wp_" + stored.prefix)


def test_revoked_api_key_is_refused(api_key, client):
    raw, key = api_key
    api_key_revoke(api_key=key)
    response = client.get("/api/schema/?format=json", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key was revoked."


def test_unknown_api_key_is_refused(client):
    response = client.get("/api/schema/?format=json", HTTP_AUTHORIZATION="Api-Key wp_nope")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key is not valid."
