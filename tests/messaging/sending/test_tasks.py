"""Sending for real, against the Wappin sandbox over HTTP: each kind, errors, retries, timeouts, inquiry."""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import pytest

from messaging.models import Message, MessageStatusEvent, WappinCallLog
from messaging.sending import delivery, engine, services
from messaging.sending.tasks import messages_sending_sweep, messages_settle_unknown
from projects.models import Integration
from tests import factories

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake\n"
INVALID_NUMBER = "6281100000000"


@pytest.fixture
def wappin(wappin_sandbox, project):
    """A project the sandbox knows: both integrations, an approved template, a customer who just wrote."""
    notification = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    chatbot = factories.IntegrationFactory(
        project=project, kind=Integration.Kind.CHATBOT, secret_key=notification.secret_key
    )
    order_shipped = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=order_shipped, language_code="id")
    invoice = factories.TemplateFactory(project=project, name="invoice_ready")
    factories.TemplateLanguageFactory(
        template=invoice, header_type="document", body="Invoice {{1}} attached."
    )
    factories.ContactFactory(
        project=project, phone_number="6281234567890", last_inbound_at=timezone.now()
    )
    wappin_sandbox.register(notification, chatbot)
    return wappin_sandbox


def _timeline(message):
    return [
        (event.status, event.source)
        for event in message.status_events.order_by("occurred_at", "id")
    ]


def _send_hsm(project, **overrides):
    arguments = {
        "project": project,
        "phone_number": "081234567890",
        "template_name": "order_shipped",
        "params": {"1": "Budi", "2": "INV-2041"},
        "source": "api_key",
        **overrides,
    }
    return services.message_send_hsm(**arguments)


def test_hsm_is_sent_end_to_end_and_keeps_wappins_message_id(
    wappin, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_hsm(project)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.wappin_message_id
    assert message.sent_at is not None
    assert _timeline(message) == [("queued", "portal"), ("sent", "send_answer")]
    [received] = wappin.sent(message_id=message.wappin_message_id)
    assert received["fields"]["recipient_number"] == "6281234567890"
    assert received["fields"]["type"] == "order_shipped"


def test_hsm_with_media_is_sent_end_to_end(wappin, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send_hsm(
            project=project,
            phone_number="081234567890",
            template_name="invoice_ready",
            params={"1": "INV-1"},
            media=SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
            source="user",
        )
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert wappin.sent(message_id=message.wappin_message_id)


def test_text_is_sent_end_to_end(wappin, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send_text(
            project=project,
            phone_number="081234567890",
            text="Your order shipped.",
            source="chatbot",
        )
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    [received] = wappin.sent(message_id=message.wappin_message_id)
    assert received["fields"]["message_content"] == "Your order shipped."


def test_media_is_sent_end_to_end(wappin, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send_media(
            project=project,
            phone_number="081234567890",
            media_type="image",
            media=SimpleUploadedFile("promo.png", PNG, content_type="image/png"),
            caption="Promo",
            source="user",
        )
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert wappin.sent(message_id=message.wappin_message_id)


def test_a_number_wappin_says_is_not_on_whatsapp_fails_with_wappins_code(
    wappin, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_hsm(project, phone_number=INVALID_NUMBER)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.failure_code == "601"
    assert message.failure_reason
    assert _timeline(message) == [("queued", "portal"), ("failed", "send_answer")]


def test_a_template_wappin_does_not_have_fails_with_404(
    wappin, project, django_capture_on_commit_callbacks
):
    wappin.patch_world(
        {"projects": {project.wappin_project_id: {"templates": {"order_shipped": None}}}}
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_hsm(project)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.failure_code == "404"


def _dispatch(project, kind=Integration.Kind.NOTIFICATION):
    integration = Integration.objects.get(project=project, kind=kind)
    return engine.messages_dispatch(integration_id=integration.pk)


def test_wappin_5xx_is_retried_and_then_the_message_is_sent(wappin, project, settings):
    # Given a queued message, a real backoff, and a Wappin answering 502
    settings.SEND_RETRY_BACKOFF_FACTOR = 1.0
    message = _send_hsm(project)  # on_commit never runs inside the test's transaction
    wappin.knobs(error_5xx_rate=1.0)
    report = _dispatch(project)
    assert report.retried == 1
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.next_attempt_at > timezone.now()
    # When Wappin is back and the retry is due
    wappin.knobs(error_5xx_rate=0.0)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    _dispatch(project)
    # Then the message is sent once
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.send_attempts == 2
    assert len(wappin.sent(project_id=project.wappin_project_id)) == 1


def test_wappin_down_for_every_retry_fails_the_message_with_a_reason(wappin, project):
    message = _send_hsm(project)
    wappin.knobs(error_5xx_rate=1.0)
    _dispatch(project)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.send_attempts == 6
    assert "could not be reached after 6 attempts" in message.failure_reason
    assert wappin.sent(project_id=project.wappin_project_id) == []


def test_retry_backoff_grows_exponentially_with_jitter(settings):
    settings.SEND_RETRY_BACKOFF_FACTOR = 1.0
    for attempt in range(1, 6):
        assert 2**attempt <= engine.retry_delay(attempt) <= 2**attempt + 1


def test_a_second_dispatcher_does_not_send_twice(
    wappin, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_hsm(project)
    _dispatch(project)
    message.refresh_from_db()
    assert message.send_attempts == 1
    assert len(wappin.sent(project_id=project.wappin_project_id)) == 1


def test_a_send_timeout_marks_the_message_unknown_and_never_resends_it(
    wappin, project, settings, django_capture_on_commit_callbacks
):
    # Given a token already fetched, and a Wappin that stops answering
    message = _send_hsm(project)
    integration = Integration.objects.get(project=project, kind=Integration.Kind.NOTIFICATION)
    from messaging.wappin import WappinClient

    WappinClient(integration).token_get()
    settings.WAPPIN_TIMEOUT_SECONDS = 0.5
    wappin.knobs(timeout_rate=1.0, timeout_sleep_s=1)
    # When the send times out
    with django_capture_on_commit_callbacks(execute=True) as scheduled:
        _dispatch(project)
    # Then a look a minute later is scheduled (eager here: it runs now and finds nothing to settle yet)
    assert len(scheduled) == 1
    # And the message is unknown, and was tried once
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert message.send_attempts == 1
    assert WappinCallLog.objects.filter(message=message).count() == 1
    # And the sweep a few minutes later does not resend it
    wappin.knobs(timeout_rate=0.0)
    messages_settle_unknown.apply()
    message.refresh_from_db()
    assert message.status == Message.Status.UNKNOWN
    assert wappin.sent(project_id=project.wappin_project_id) == []
    # And once nobody has heard of it for long enough, it fails with a reason a person can read
    delivery.message_settle(message_id=message.pk, now=timezone.now() + timedelta(minutes=16))
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.failure_reason == delivery.UNKNOWN_GIVE_UP_REASON


def test_an_unknown_message_with_a_wappin_id_is_settled_by_inquiry(
    wappin, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_hsm(project)
    message.refresh_from_db()
    # The sandbox moves its timeline sent -> delivered -> read within a few tens of ms.
    time.sleep(0.3)
    Message.objects.filter(pk=message.pk).update(status=Message.Status.UNKNOWN)
    messages_settle_unknown.apply()
    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert ("read", "inquiry") in _timeline(message)


def test_refresh_status_through_the_api_records_the_inquiry_timeline(
    wappin, project, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/messages/hsm/",
            {
                "recipient_number": "081234567890",
                "type": "order_shipped",
                "params": {"1": "Budi", "2": "X"},
            },
            format="json",
        )
    assert response.status_code == 202
    time.sleep(0.3)
    body = api_client.post(f"/api/v1/messages/{response.json()['id']}/refresh-status/").json()
    assert body["status"] == "read"
    steps = {(step["status"], step["source"]) for step in body["timeline"]}
    # Wappin's timestamps have whole seconds, so the inquiry's steps may sort before ours.
    assert {
        ("queued", "portal"),
        ("sent", "send_answer"),
        ("delivered", "inquiry"),
        ("read", "inquiry"),
    } <= steps
    # The inquiry's `sent` repeats what the send answer said: kept, not applied again.
    assert (
        MessageStatusEvent.objects.get(
            message_id=body["id"], status="sent", source="inquiry"
        ).applied
        is False
    )


def test_statuses_only_move_forward(project):
    message = factories.MessageFactory(project=project, status=Message.Status.SENT)
    services.message_status_record(message_id=message.pk, status="read", source="callback")
    late, moved = services.message_status_record(
        message_id=message.pk, status="delivered", source="callback"
    )
    assert not moved
    assert late.status == Message.Status.READ
    assert late.delivered_at is not None  # a read message was delivered
    failed_late, moved = services.message_status_record(
        message_id=message.pk, status="failed", source="inquiry"
    )
    assert not moved and failed_late.status == Message.Status.READ


def test_api_sends_each_kind_through_the_sandbox(
    wappin, project, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            api_client.post(
                "/api/v1/messages/hsm/",
                {
                    "recipient_number": "081234567890",
                    "type": "order_shipped",
                    "params": {"1": "A", "2": "B"},
                },
                format="json",
            ),
            api_client.post(
                "/api/v1/messages/hsm-media/",
                {
                    "recipient_number": "081234567890",
                    "type": "invoice_ready",
                    "params": '{"1": "INV-1"}',
                    "media": SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
                },
                format="multipart",
            ),
            api_client.post(
                "/api/v1/messages/text/",
                {"recipient_number": "081234567890", "message_content": "Hello"},
                format="json",
            ),
            api_client.post(
                "/api/v1/messages/media/",
                {
                    "recipient_number": "081234567890",
                    "media_type": "image",
                    "media": SimpleUploadedFile("promo.png", PNG, content_type="image/png"),
                    "caption": "Promo",
                },
                format="multipart",
            ),
        ]
    assert [answer.status_code for answer in answers] == [202, 202, 202, 202]
    for answer in answers:
        detail = api_client.get(f"/api/v1/messages/{answer.json()['id']}/").json()
        assert detail["status"] == "sent", detail
        assert detail["wappin_message_id"]
    assert len(wappin.sent(project_id=project.wappin_project_id)) == 4


def test_refresh_status_while_wappin_is_down_answers_503(
    wappin, project, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_hsm(project)
    wappin.knobs(error_5xx_rate=1.0)
    response = api_client.post(f"/api/v1/messages/{message.pk}/refresh-status/")
    assert response.status_code == 503
    assert "Wappin could not tell" in response.json()["error"]["message"]


def test_a_message_whose_integration_was_removed_fails_with_the_reason(project):
    integration = factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)
    message = factories.MessageFactory(project=project, integration=integration)
    integration.delete()
    messages_sending_sweep.apply()
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.failure_code == "integration_missing"
    assert "no active Wappin integration" in message.failure_reason
