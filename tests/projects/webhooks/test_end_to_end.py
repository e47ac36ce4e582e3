"""End to end: a send through the Wappin sandbox, its status callbacks on a live portal, and
the signed webhooks they cause, received by a local HTTP server (issue 11's "done when")."""

from __future__ import annotations

from django.utils import timezone

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from callbacks.services import SWEEP_GRACE, callbacks_sweep
from messaging.models import Message
from projects.models import Integration, WebhookDelivery
from projects.services import api_key_create
from projects.webhooks.services import webhook_deliveries_sweep
from tests import factories
from tests.webhook_receiver import eventually

pytestmark = pytest.mark.django_db(transaction=True)

STATUS_EVENTS = ["message.sent", "message.delivered", "message.read"]


@pytest.fixture
def portal(live_server, wappin_sandbox):
    """A project whose notification integration Wappin (the sandbox) calls back on the live server."""
    project = factories.ProjectFactory()
    integration = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    integration.callback_url = live_server.url + integration.callback_path
    integration.save()
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=template, language_code="id")
    wappin_sandbox.register(integration)
    wappin_sandbox.knobs(callbacks_enabled=True)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=project, name='e2e').raw_key}"
    )
    return project, client


def test_a_send_through_the_sandbox_reaches_the_webhook_receiver_signed(
    portal, webhook_receiver, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.5
    project, client = portal
    # Given an endpoint for the message's statuses, whose receiver fails message.sent twice
    created = client.post(
        "/api/v1/webhook-endpoints/",
        {"url": webhook_receiver.url, "event_types": STATUS_EVENTS},
        format="json",
    )
    assert created.status_code == 201, created.content
    endpoint_id, secret = created.json()["id"], created.json()["secret"]
    webhook_receiver.answer(500, 500, event_type="message.sent")

    # When a template message is sent through the sandbox, which calls back sent, delivered, read
    sent = client.post(
        "/api/v1/messages/hsm/",
        {
            "recipient_number": "081234567890",
            "type": "order_shipped",
            "params": {"1": "Budi", "2": "INV-1"},
        },
        format="json",
    )
    assert sent.status_code == 202, sent.content
    message_id = sent.json()["id"]

    def all_received():
        # What the beat would do meanwhile: statuses that came before the send answer, due retries
        callbacks_sweep(now=timezone.now() + SWEEP_GRACE)
        webhook_deliveries_sweep()
        accepted = {r.json["type"] for r in webhook_receiver.requests if r.status == 200}
        return set(STATUS_EVENTS) <= accepted

    assert eventually(all_received, timeout=60), [
        (r.json["type"], r.status) for r in webhook_receiver.requests
    ]

    # Then each request verifies with the endpoint's secret and names the message
    message = Message.objects.get(pk=message_id)
    by_type = {}
    for request in webhook_receiver.requests:
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["data"]["message"]["id"] == message_id
        assert payload["data"]["message"]["wappin_message_id"] == message.wappin_message_id
        by_type.setdefault(payload["type"], []).append((request.status, payload))
    assert [status for status, _ in by_type["message.sent"]] == [500, 500, 200]
    sequences = [by_type[event][-1][1]["data"]["sequence"] for event in STATUS_EVENTS]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    read = by_type["message.read"][-1][1]["data"]
    assert read["wappin_timestamp"] and read["occurred_at"]
    # And the three attempts of message.sent show in the endpoint's log, all with one webhook-id
    log = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/").json()["results"]
    (sent_delivery,) = [d for d in log if d["event_type"] == "message.sent"]
    assert sent_delivery["status"] == WebhookDelivery.Status.DELIVERED
    assert [a["response_code"] for a in sent_delivery["attempt_log"]] == [500, 500, 200]
    assert len({r.headers["webhook-id"] for r in webhook_receiver.of_type("message.sent")}) == 1
