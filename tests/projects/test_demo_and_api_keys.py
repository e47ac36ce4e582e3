import json
from io import StringIO

from django.core.management import call_command

import pytest

from projects.models import ApiKey, Integration, Project
from projects.services import api_key_revoke

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_what_it_made():
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    assert "Demo data created" in first.getvalue()
    assert "nothing to create" in second.getvalue()
    assert Project.objects.count() == 1
    assert Integration.objects.count() == 2
    # a group of contacts, so a newcomer can try a blast
    from messaging.models import ContactGroup

    assert ContactGroup.objects.get(name="Pelanggan setia").contacts.count() == 4


def test_seed_demo_json_gives_login_ids_callback_urls_and_a_working_api_key(client):
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["login"]["username"] == "admin"
    assert summary["project"]["client_id"] == "0070"
    assert all("/callbacks/wappin/" in i["callback_url"] for i in summary["integrations"])
    response = client.get("/api/schema/?format=json", HTTP_AUTHORIZATION=f"Api-Key {summary['api_key']}")
    assert response.status_code == 200


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
