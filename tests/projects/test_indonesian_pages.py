"""The projects app's pages in Bahasa Indonesia: a browser that asks for `id` gets them translated."""

from __future__ import annotations

from django.utils import translation

import pytest

from projects.models import Membership
from projects.roles import capability_refusal
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss_client(client, project):
    boss = factories.UserFactory(username="boss")
    factories.MembershipFactory(project=project, user=boss, role=Membership.Role.ADMIN)
    client.force_login(boss)
    return client


def _indonesian(client, path: str) -> str:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200, path
    page = response.content.decode()
    assert '<html lang="id">' in page
    return page


def test_the_project_admin_pages_are_in_indonesian(boss_client, project):
    factories.IntegrationFactory(project=project)

    members = _indonesian(boss_client, "/project/members/")
    integrations = _indonesian(boss_client, "/project/integrations/")
    audit = _indonesian(boss_client, "/project/audit/")
    settings_page = _indonesian(boss_client, "/projects/settings/")

    assert "<h1>Anggota" in members and "Tambah anggota" in members and "Pemasaran" in members
    assert "<h1>Integrasi" in integrations and "Notifikasi (HSM) · Produksi" in integrations
    assert "<h1>Log audit" in audit and "Ekspor CSV" in audit
    assert "Pengaturan proyek" in settings_page and "Balasan untuk STOP dan START" in settings_page
    for page, english in (
        (members, "<h1>Members"),
        (members, "Add a member"),
        (integrations, "<h1>Integrations"),
        (audit, "<h1>Audit log"),
        (settings_page, "Project settings"),
    ):
        assert english not in page


def test_the_api_keys_webhooks_and_two_factor_pages_are_in_indonesian(boss_client, project):
    factories.WebhookEndpointFactory(project=project)

    api_keys = _indonesian(boss_client, "/api-keys/")
    webhooks = _indonesian(boss_client, "/webhooks/")
    two_factor = _indonesian(boss_client, "/accounts/two-factor/")

    assert "<h1>API key" in api_keys and "Buat key" in api_keys and "Belum ada key." in api_keys
    assert "<h1>Webhook" in webhooks and "Tambah endpoint" in webhooks
    assert "Pesan diterima" in webhooks  # the message.delivered event's label
    assert "Atur login dua langkah" in two_factor
    assert "<h1>API keys" not in api_keys and "Create key" not in api_keys
    assert "New endpoint" not in webhooks and "Set up two-factor log-in" not in two_factor


def test_a_service_message_is_shown_in_indonesian(boss_client, project):
    factories.UserFactory(username="rina")

    response = boss_client.post(
        "/project/members/",
        {"user": "rina", "role": "viewer"},
        HTTP_ACCEPT_LANGUAGE="id",
        follow=True,
    )

    assert "rina sekarang menjadi anggota (Pengamat)." in response.content.decode()


def test_an_api_error_keeps_its_code_and_speaks_the_requests_language(api_client):
    body = {"url": "nope", "event_types": ["message.sent"]}
    english = api_client.post("/api/v1/webhook-endpoints/", body, format="json")
    indonesian = api_client.post(
        "/api/v1/webhook-endpoints/", body, format="json", HTTP_ACCEPT_LANGUAGE="id"
    )

    assert english.status_code == indonesian.status_code == 400
    assert english.json()["error"]["code"] == indonesian.json()["error"]["code"]
    assert english.json()["error"]["message"].startswith("Enter a full URL")
    assert indonesian.json()["error"]["message"].startswith("Masukkan URL lengkap")


def test_a_refusal_by_role_names_the_roles_in_indonesian(project):
    with translation.override("id"):
        refusal = capability_refusal(role="viewer", project=project, capabilities=("blast.run",))

    assert refusal.code == "role_not_allowed"
    assert refusal.message == (
        f"Peran Anda di {project.name} (pengamat) tidak dapat melakukan ini: "
        "hanya anggota admin, pemasaran dan developer yang dapat."
    )
