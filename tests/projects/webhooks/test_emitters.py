"""Each app emits its events into the outbox, in its own transaction."""

from __future__ import annotations

import pytest

from messaging.blasts import services as blast_services
from messaging.contacts.services import opt_out_record, opt_out_remove
from messaging.models import ContactGroup, Message
from messaging.sending import engine
from projects.models import WebhookDelivery
from templates_app import services as template_services
from templates_app.models import Template
from tests import factories
from tests.callbacks.conftest import CURRENT_TOKEN, message_body

pytestmark = pytest.mark.django_db


def _types(endpoint) -> list[str]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("id")
        .values_list("event_type", flat=True)
    )


def test_opting_out_and_in_emit_contact_events(project):
    endpoint = factories.WebhookEndpointFactory(project=project)
    opt_out_record(project=project, phone_number="6281234567890")
    opt_out_record(project=project, phone_number="6281234567890")  # already on the list
    opt_out_remove(project=project, phone_number="6281234567890")
    assert _types(endpoint) == ["contact.opted_out", "contact.opted_in"]
    payload = WebhookDelivery.objects.filter(endpoint=endpoint).first().payload
    assert payload["data"]["phone_number"] == "6281234567890"


def test_a_template_status_change_is_emitted(project, admin_user):
    endpoint = factories.WebhookEndpointFactory(
        project=project, event_types=["template.status_changed"]
    )
    template = factories.TemplateFactory(project=project, status=Template.Status.ON_PROCESS)
    template_services.template_approve(template=template, actor=admin_user)
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.payload["data"]["from_status"] == "on_process"
    assert delivery.payload["data"]["to_status"] == "approved"
    assert delivery.payload["data"]["template"]["name"] == template.name


def test_a_blast_emits_started_queued_sent_and_finished(project, wappin_sandbox):
    # Given a blast to one contact, and an endpoint for its events
    template = factories.TemplateFactory(project=project, name="weekend_promo")
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}!")
    integration = factories.IntegrationFactory(project=project)
    wappin_sandbox.register(integration)
    group = ContactGroup.objects.create(project=project, name="VIP")
    factories.ContactFactory(project=project, name="Budi").groups.add(group)
    endpoint = factories.WebhookEndpointFactory(
        project=project,
        event_types=["blast.started", "blast.finished", "message.queued", "message.sent"],
    )
    blast = blast_services.blast_create(
        project=project,
        name="Weekend promo",
        template_name="weekend_promo",
        group=group,
        params={"1": {"source": "name"}},
    )
    # When it runs to the end
    blast_services.blast_start(blast_id=blast.pk)
    blast_services.blast_expand_batch(blast_id=blast.pk)
    engine.messages_dispatch(integration_id=integration.pk)
    blast.refresh_from_db()
    assert blast.status == "done"
    # Then every step was emitted once, the message's with its ids
    assert _types(endpoint) == ["blast.started", "message.queued", "message.sent", "blast.finished"]
    sent = WebhookDelivery.objects.get(endpoint=endpoint, event_type="message.sent").payload["data"]
    message = Message.objects.get(blast=blast)
    assert sent["message"]["id"] == message.pk
    assert sent["message"]["wappin_message_id"] == message.wappin_message_id
    assert sent["message"]["blast_id"] == blast.pk


def test_a_customers_message_is_emitted(client, django_capture_on_commit_callbacks):
    project = factories.ProjectFactory(
        client_id="0009", wappin_project_id="16", default_chatbot_message=""
    )
    integration = factories.IntegrationFactory(
        project=project, kind="chatbot", access_token=CURRENT_TOKEN
    )
    endpoint = factories.WebhookEndpointFactory(project=project, event_types=["message.received"])
    with django_capture_on_commit_callbacks(execute=False):
        # Tasks not run: the callback is applied below, the delivery is only written
        answer = client.post(
            integration.callback_path,
            data=message_body("wamid-1", "Halo", timestamp="1741572944"),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {CURRENT_TOKEN}",
        )
    assert answer.status_code == 200
    from callbacks.models import CallbackEvent
    from callbacks.services import callback_event_process

    with django_capture_on_commit_callbacks(execute=False):
        callback_event_process(event_id=CallbackEvent.objects.get().pk)
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    data = delivery.payload["data"]
    assert data["message"]["text"] == "Halo" and data["message"]["direction"] == "in"
    assert data["message"]["wappin_message_id"] == "wamid-1"
    assert data["wappin_timestamp"].startswith("2025-03-10T02:15:44")


def test_a_send_emits_queued_and_a_failure_emits_failed_with_its_reason(project):
    from django.utils import timezone

    from messaging.models import MessageStatusEvent
    from messaging.sending import services as sending
    from projects.models import Integration

    factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)
    factories.ContactFactory(
        project=project, phone_number="6281234567890", last_inbound_at=timezone.now()
    )
    endpoint = factories.WebhookEndpointFactory(
        project=project, event_types=["message.queued", "message.failed"]
    )
    message = sending.message_send_text(
        project=project, phone_number="081234567890", text="Halo", source=Message.Source.USER
    )
    sending.message_status_record(
        message_id=message.pk,
        status=Message.Status.FAILED,
        source=MessageStatusEvent.Source.SEND_ANSWER,
        detail="Number is not on WhatsApp.",
        failure_code="601",
    )
    queued, failed = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")
    assert (queued.event_type, queued.payload["data"]["sequence"]) == ("message.queued", 1)
    assert failed.payload["data"]["failure"] == {
        "code": "601",
        "reason": "Number is not on WhatsApp.",
    }
    assert failed.payload["data"]["sequence"] > queued.payload["data"]["sequence"]
