"""/api/v1/webhook-endpoints/: developers' keys manage endpoints; the secret is shown once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from projects.models import WebhookDelivery, WebhookEndpoint
from projects.webhooks import services
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"


def _create(api_client, **body):
    body = {"url": "https://hooks.example.com/a", "event_types": ["message.sent"], **body}
    return api_client.post(URL, body, format="json")


def test_creating_an_endpoint_answers_its_secret_once(api_client):
    response = _create(api_client, description="orders")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["message.sent"] and body["is_active"] is True
    assert response["Cache-Control"] == "no-store"
    # Never again: not in the list, not in the detail
    listed = api_client.get(URL).json()
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in api_client.get(f"{URL}{body['id']}/").json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event_types": ["message.exploded"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"url": "ftp://x.example.com/"}, "url"),
        ({"evnt_types": ["message.sent"]}, "evnt_types"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, body, field):
    response = _create(api_client, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_an_http_url_is_refused_outside_development(api_client, settings):
    settings.WEBHOOK_ALLOW_INSECURE_URLS = False
    response = _create(api_client, url="http://hooks.example.com/a")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "webhook_url_not_https"


def test_a_marketer_may_not_manage_webhooks(project, marketer):
    client = APIClient()
    client.force_authenticate(marketer)
    assert client.get(URL).status_code == 403
    assert _create(client).status_code == 403


def test_another_projects_endpoint_is_not_found(api_client):
    other = factories.WebhookEndpointFactory()
    assert api_client.get(f"{URL}{other.pk}/").status_code == 404
    assert api_client.delete(f"{URL}{other.pk}/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=other.pk).exists()


def test_change_rotate_and_delete(api_client):
    endpoint_id = _create(api_client).json()["id"]
    changed = api_client.patch(
        f"{URL}{endpoint_id}/", {"event_types": ["message.read"], "is_active": False}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["event_types"] == ["message.read"]
    assert changed.json()["is_active"] is False
    old_secret = WebhookEndpoint.objects.get().secret
    rotated = api_client.post(f"{URL}{endpoint_id}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in ("", old_secret)
    assert rotated.json()["previous_secret_expires_at"]
    assert api_client.delete(f"{URL}{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_test_event_log_and_resend(
    api_client, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint_id = _create(api_client, url=webhook_receiver.url).json()["id"]
    # A test event, answered 500 by the receiver
    webhook_receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        queued = api_client.post(f"{URL}{endpoint_id}/test/")
    assert queued.status_code == 202 and queued.json()["event_type"] == "webhook.test"
    log = api_client.get(f"{URL}{endpoint_id}/deliveries/").json()
    (delivery,) = log["results"]
    assert delivery["status"] == "pending" and delivery["last_response_code"] == 500
    assert [a["response_code"] for a in delivery["attempt_log"]] == [500]
    assert delivery["attempt_log"][0]["response_excerpt"] == "receiver says no"
    # Resent: delivered
    with django_capture_on_commit_callbacks(execute=True):
        resent = api_client.post(f"{URL}{endpoint_id}/deliveries/{delivery['id']}/resend/")
    assert resent.status_code == 202
    assert WebhookDelivery.objects.get().status == "delivered"
    log = api_client.get(f"{URL}{endpoint_id}/deliveries/").json()
    assert [a["response_code"] for a in log["results"][0]["attempt_log"]] == [500, 200]


def test_a_disabled_endpoint_gets_no_test_event(api_client, project):
    created = services.webhook_endpoint_create(
        project=project, url="https://hooks.example.com/a", event_types=["message.sent"]
    )
    services.webhook_endpoint_disable(endpoint=created.endpoint, reason="failing")
    response = api_client.post(f"{URL}{created.endpoint.pk}/test/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "webhook_endpoint_disabled"
