"""The Webhooks pages: admins and developers manage endpoints; the secret is shown once."""

from __future__ import annotations

import pytest

from projects.models import WebhookDelivery, WebhookEndpoint
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer_client(client, project):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role="developer")
    client.force_login(user)
    return client


def test_a_developer_adds_an_endpoint_and_sees_its_secret_once(developer_client):
    response = developer_client.post(
        "/webhooks/",
        {"url": "https://hooks.example.com/a", "event_types": ["message.sent", "message.read"]},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    page = response.content.decode()
    assert endpoint.secret in page
    assert response["Cache-Control"] == "no-store"
    assert endpoint.event_types == ["message.sent", "message.read"]
    again = developer_client.get("/webhooks/").content.decode()
    assert "https://hooks.example.com/a" in again and endpoint.secret not in again
    assert endpoint.secret not in developer_client.get(f"/webhooks/{endpoint.pk}/").content.decode()


def test_a_bad_url_is_shown_on_the_form(developer_client, settings):
    settings.WEBHOOK_ALLOW_INSECURE_URLS = False
    response = developer_client.post(
        "/webhooks/", {"url": "http://hooks.example.com/a", "event_types": ["message.sent"]}
    )
    assert "https:// URLs only" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_marketer_is_refused(marketer_client):
    response = marketer_client.get("/webhooks/")
    assert response.status_code == 403


def test_rotation_shows_the_new_secret(developer_client, project):
    endpoint = factories.WebhookEndpointFactory(project=project)
    old = endpoint.secret
    response = developer_client.post(f"/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    page = response.content.decode()
    assert endpoint.secret != old and endpoint.secret in page and old not in page


def test_the_log_shows_attempts_and_resends(
    developer_client, project, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint = factories.WebhookEndpointFactory(project=project, url=webhook_receiver.url)
    webhook_receiver.answer(502)
    with django_capture_on_commit_callbacks(execute=True):
        developer_client.post(f"/webhooks/{endpoint.pk}/test/")
    page = developer_client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert "webhook.test" in page and "502" in page and "receiver says no" in page
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        developer_client.post(f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.tries.count() == 2


def test_editing_and_deleting(developer_client, project):
    endpoint = factories.WebhookEndpointFactory(project=project)
    developer_client.post(
        f"/webhooks/{endpoint.pk}/",
        {"url": "https://hooks.example.com/b", "event_types": ["blast.finished"]},
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/b"
    assert endpoint.event_types == ["blast.finished"] and not endpoint.is_active
    developer_client.post(f"/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_another_projects_endpoint_is_a_404(developer_client):
    other = factories.WebhookEndpointFactory()
    assert developer_client.get(f"/webhooks/{other.pk}/").status_code == 404


def test_a_superuser_sees_endpoints_in_the_admin_without_their_secret(admin_client, project):
    endpoint = factories.WebhookEndpointFactory(project=project)
    listing = admin_client.get("/admin/projects/webhookendpoint/")
    assert listing.status_code == 200 and endpoint.url in listing.content.decode()
    page = admin_client.get(f"/admin/projects/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
