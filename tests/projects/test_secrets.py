"""Stored Wappin secrets are encrypted at rest and never shown back."""

import io
import sqlite3

from django.core.management import call_command
from django.db import connection

import pytest

from projects.models import Integration, WappinCredential
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_KEY = "53f2c965dcf0e40ac2d6ba641b6ff37025113a3e"
SECRET_KEY = "599868c06777dffded3c94a8394d9ab9c3604700"
TOKEN = "d49865d016a32ab31734ed6972a818c41808c9f109c3614bec5da2508ef3be20"


@pytest.fixture
def integration():
    return factories.IntegrationFactory(
        client_key=CLIENT_KEY, secret_key=SECRET_KEY, access_token=TOKEN
    )


def _token(integration) -> str:
    """The token of the integration's Wappin client, as stored now ("" without a client row)."""
    stored = Integration.objects.select_related("credential").get(pk=integration.pk)
    return stored.credential.access_token if stored.credential else ""


def test_secrets_read_back_in_clear_through_the_model(integration):
    stored = Integration.objects.get(pk=integration.pk)
    assert (stored.client_key, stored.secret_key, _token(stored)) == (
        CLIENT_KEY,
        SECRET_KEY,
        TOKEN,
    )


def test_database_columns_hold_no_secret_in_clear(integration):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_key, secret_key FROM projects_integration WHERE id = %s",
            [integration.pk],
        )
        row = cursor.fetchone()
        cursor.execute(
            "SELECT access_token FROM projects_wappincredential WHERE id = %s",
            [integration.credential_id],
        )
        row += cursor.fetchone()
    for clear, stored in zip((CLIENT_KEY, SECRET_KEY, TOKEN), row, strict=True):
        assert stored and clear not in stored


def test_dumpdata_contains_no_secret_in_clear(integration):
    out = io.StringIO()
    call_command("dumpdata", "projects", stdout=out)
    dump = out.getvalue()
    assert str(integration.pk) in dump
    for clear in (CLIENT_KEY, SECRET_KEY, TOKEN):
        assert clear not in dump


def test_the_sqlite_file_contains_no_secret_in_clear(integration):
    if connection.vendor != "sqlite":
        pytest.skip("the file check is for SQLite; the column check covers PostgreSQL")
    connection.close()
    path = connection.settings_dict["NAME"]
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(FULL)")
    with open(path, "rb") as db_file:
        data = db_file.read()
    for clear in (CLIENT_KEY, SECRET_KEY, TOKEN):
        assert clear.encode() not in data


def test_admin_form_never_shows_a_secret(admin_client, integration):
    page = admin_client.get(
        f"/admin/projects/integration/{integration.pk}/change/"
    ).content.decode()
    assert "•••• set" in page
    for clear in (CLIENT_KEY, SECRET_KEY, TOKEN):
        assert clear not in page


def test_admin_save_with_empty_secret_keeps_the_stored_one(admin_client, integration):
    response = admin_client.post(
        f"/admin/projects/integration/{integration.pk}/change/",
        {
            "project": integration.project.pk,
            "kind": integration.kind,
            "environment": integration.environment,
            "is_active": "on",
            "callback_url": "https://portal.example.com/callbacks/wappin/abc/",
            "callback_ip_allowlist": "10.0.0.0/24",
            "ip_whitelist": "203.0.113.7",
            "new_client_key": "",
            "new_secret_key": "",
        },
    )
    assert response.status_code == 302
    stored = Integration.objects.get(pk=integration.pk)
    assert stored.secret_key == SECRET_KEY
    assert _token(stored) == TOKEN
    assert stored.callback_ip_allowlist == ["10.0.0.0/24"]


def test_admin_new_secret_key_leaves_the_old_clients_token(admin_client, integration):
    admin_client.post(
        f"/admin/projects/integration/{integration.pk}/change/",
        {
            "project": integration.project.pk,
            "kind": integration.kind,
            "environment": integration.environment,
            "is_active": "on",
            "callback_url": "https://portal.example.com/callbacks/wappin/abc/",
            "new_secret_key": "a-brand-new-secret",
        },
    )
    stored = Integration.objects.get(pk=integration.pk)
    assert stored.secret_key == "a-brand-new-secret"
    assert _token(stored) == ""  # another Wappin client: its token is fetched on the next call


def test_admin_rejects_a_bad_whitelist_entry_with_a_clear_message(admin_client, integration):
    response = admin_client.post(
        f"/admin/projects/integration/{integration.pk}/change/",
        {
            "project": integration.project.pk,
            "kind": integration.kind,
            "environment": integration.environment,
            "callback_url": "ftp://portal.example.com/x",
            "ip_whitelist": "10.0.0.300",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "&#x27;10.0.0.300&#x27; is not an IP address" in page
    assert "must start with https://" in page


def test_a_dump_loads_back_to_the_same_secrets(integration, tmp_path):
    dump = tmp_path / "dump.json"
    call_command("dumpdata", "projects.integration", "projects.wappincredential", output=str(dump))
    Integration.objects.filter(pk=integration.pk).update(secret_key="", client_key="")
    WappinCredential.objects.update(access_token="")
    call_command("loaddata", str(dump), verbosity=0)
    stored = Integration.objects.get(pk=integration.pk)
    assert (stored.client_key, stored.secret_key, _token(stored)) == (
        CLIENT_KEY,
        SECRET_KEY,
        TOKEN,
    )
