"""Sending services: every refusal before a row is written, and the outbox row itself."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from messaging.models import Contact, Message, MessageStatusEvent
from messaging.sending.services import message_send_text
from projects.models import Integration
from tests import factories
from wappin_portal.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


def test_text_inside_the_window_is_queued_with_its_first_timeline_step(
    project, chatbot_integration, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        message = message_send_text(
            project=project,
            phone_number="0812 3456 7890",
            text="  Your order shipped.  ",
            source="api_key",
        )
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.kind == Message.Kind.TEXT
    assert message.text == "Your order shipped."
    assert message.phone_number == "6281234567890"
    assert message.contact == customer
    assert message.integration == chatbot_integration
    steps = list(message.status_events.values_list("status", "source"))
    assert steps == [("queued", MessageStatusEvent.Source.PORTAL)]
    # The send task is enqueued only once the transaction has committed.
    assert len(callbacks) == 1


def test_text_outside_the_24_hour_window_is_refused(project, chatbot_integration, customer):
    customer.last_inbound_at = timezone.now() - timedelta(hours=25)
    customer.save()
    with pytest.raises(Conflict) as error:
        message_send_text(
            project=project, phone_number=customer.phone_number, text="Hi", source="user"
        )
    assert error.value.code == "outside_24h_window"
    assert error.value.field == "recipient_number"
    assert not Message.objects.exists()


def test_text_to_a_number_that_never_wrote_is_refused(project, chatbot_integration):
    with pytest.raises(Conflict) as error:
        message_send_text(project=project, phone_number="081299998888", text="Hi", source="api_key")
    assert error.value.code == "outside_24h_window"
    assert not Contact.objects.exists()


def test_chatbot_reply_is_inside_the_window_by_construction(
    project, chatbot_integration, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        message = message_send_text(
            project=project, phone_number="081299998888", text="Promo!", source="chatbot"
        )
    assert message.status == Message.Status.QUEUED
    assert message.source == Message.Source.CHATBOT


def test_text_with_an_invalid_number_is_refused_with_the_reason(project, chatbot_integration):
    with pytest.raises(ValidationFailed) as error:
        message_send_text(project=project, phone_number="0812", text="Hi", source="api_key")
    assert error.value.field == "recipient_number"
    assert "too short" in error.value.message
    assert not Message.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", "x" * 4097])
def test_empty_or_too_long_text_is_refused(project, chatbot_integration, customer, text):
    with pytest.raises(ValidationFailed) as error:
        message_send_text(
            project=project, phone_number=customer.phone_number, text=text, source="user"
        )
    assert error.value.field == "message_content"


def test_send_without_any_integration_is_refused(project, customer):
    with pytest.raises(Conflict) as error:
        message_send_text(
            project=project, phone_number=customer.phone_number, text="Hi", source="user"
        )
    assert error.value.code == "integration_missing"


def test_send_through_an_integration_without_credentials_is_refused(project, customer):
    factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT, secret_key="")
    with pytest.raises(Conflict) as error:
        message_send_text(
            project=project, phone_number=customer.phone_number, text="Hi", source="user"
        )
    assert error.value.code == "integration_no_credentials"


def test_text_falls_back_to_the_notification_integration(
    project, customer, django_capture_on_commit_callbacks
):
    notification = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    with django_capture_on_commit_callbacks():
        message = message_send_text(
            project=project, phone_number=customer.phone_number, text="Hi", source="user"
        )
    assert message.integration == notification
