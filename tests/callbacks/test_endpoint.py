"""The endpoint Wappin calls: its checks in order, and what it stores and answers."""

from __future__ import annotations

import json
import random

import pytest

from callbacks.models import CALLBACK_BODY_MAX_BYTES, CallbackEvent
from messaging.models import Message
from tests import factories
from tests.callbacks.conftest import (
    DOCUMENT_STATUS_SAMPLE,
    PREVIOUS_TOKEN,
    message_body,
    status_body,
)

pytestmark = pytest.mark.django_db


def sent_message(integration, wappin_message_id: str) -> Message:
    return factories.MessageFactory(
        project=integration.project,
        integration=integration,
        kind=Message.Kind.HSM,
        status=Message.Status.SENT,
        wappin_message_id=wappin_message_id,
        phone_number="628989229471",
    )


def test_document_status_sample_moves_the_message_to_delivered(integration, post_callback):
    # Given a message Wappin accepted as 5cdbe7774a059
    message = sent_message(integration, "5cdbe7774a059")

    # When Wappin posts the document's status sample, exactly as printed
    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE)

    # Then it is acknowledged the way Wappin stops retrying, and the history shows "delivered"
    assert response.status_code == 200
    assert response.json() == {"status": "000"}
    message.refresh_from_db()
    assert message.status == "delivered"
    assert message.delivered_at.timestamp() == 1557915512
    step = message.status_events.get(source="callback")
    assert (step.status, step.applied) == ("delivered", True)
    event = CallbackEvent.objects.get()
    assert (event.verdict, event.state, event.message) == ("accepted", "processed", message)
    assert event.status_value == "delivered"
    assert json.loads(event.body)["project id"] == "16"


def test_unknown_key_is_404_and_nothing_is_stored(client):
    response = client.post(
        "/callbacks/wappin/not-a-key/", data=DOCUMENT_STATUS_SAMPLE, content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["message"] == "No integration has this callback URL."
    assert not CallbackEvent.objects.exists()


def test_get_is_405(client, integration):
    response = client.get(integration.callback_path)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not CallbackEvent.objects.exists()


def test_caller_outside_the_allow_list_is_403(integration, post_callback):
    integration.callback_ip_allowlist = ["203.0.113.0/24"]
    integration.save()
    sent_message(integration, "5cdbe7774a059")

    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 403
    assert "198.51.100.7" in response.json()["message"]
    event = CallbackEvent.objects.get()
    assert (event.verdict, event.state, event.remote_addr) == (
        "rejected_ip",
        "skipped",
        "198.51.100.7",
    )
    assert Message.objects.get().status == "sent"


def test_caller_inside_the_allow_list_is_accepted(integration, post_callback):
    integration.callback_ip_allowlist = ["203.0.113.0/24"]
    integration.save()

    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE, REMOTE_ADDR="203.0.113.9")

    assert response.json() == {"status": "000"}


def test_forged_x_forwarded_for_from_an_untrusted_peer_changes_nothing(
    integration, post_callback, settings
):
    # Given an allow-list with Wappin's address and a proxy we trust at 10.0.0.1
    settings.IPWARE_TRUSTED_PROXY_LIST = ["10.0.0.1"]
    integration.callback_ip_allowlist = ["203.0.113.9"]
    integration.save()

    # When someone else connects directly and claims, in the header, to be Wappin behind our proxy
    response = post_callback(
        integration,
        DOCUMENT_STATUS_SAMPLE,
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1",
    )

    # Then its own address is what counts
    assert response.status_code == 403
    assert CallbackEvent.objects.get().remote_addr == "198.51.100.7"


def test_forged_x_forwarded_for_is_ignored_when_no_proxy_is_trusted(
    integration, post_callback, settings
):
    settings.IPWARE_TRUSTED_PROXY_LIST = []
    settings.IPWARE_PROXY_COUNT = 0
    integration.callback_ip_allowlist = ["203.0.113.9"]
    integration.save()

    response = post_callback(
        integration,
        DOCUMENT_STATUS_SAMPLE,
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    assert response.status_code == 403


def test_the_client_behind_a_trusted_proxy_is_the_caller(integration, post_callback, settings):
    # Given our reverse proxy at 10.0.0.1, which appends the address it saw
    settings.IPWARE_TRUSTED_PROXY_LIST = ["10.0.0.1"]
    integration.callback_ip_allowlist = ["203.0.113.9"]
    integration.save()

    # When Wappin (203.0.113.9) calls through it, with a forged entry of its own in front
    response = post_callback(
        integration,
        DOCUMENT_STATUS_SAMPLE,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
    )

    # Then the address our proxy saw is the caller
    assert response.json() == {"status": "000"}
    assert CallbackEvent.objects.get().remote_addr == "203.0.113.9"


def test_an_attacker_behind_a_trusted_proxy_is_still_refused(integration, post_callback, settings):
    settings.IPWARE_TRUSTED_PROXY_LIST = ["10.0.0.1"]
    integration.callback_ip_allowlist = ["203.0.113.9"]
    integration.save()

    response = post_callback(
        integration,
        DOCUMENT_STATUS_SAMPLE,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
    )

    assert response.status_code == 403
    assert CallbackEvent.objects.get().remote_addr == "198.51.100.7"


def test_missing_bearer_is_401(integration, post_callback):
    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE, token=None)

    assert response.status_code == 401
    assert "No Authorization header" in response.json()["message"]
    assert CallbackEvent.objects.get().verdict == "rejected_auth"


def test_wrong_bearer_is_401_and_the_token_is_never_stored(integration, post_callback):
    sent_message(integration, "5cdbe7774a059")

    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE, token="guessed-token")

    assert response.status_code == 401
    event = CallbackEvent.objects.get()
    assert event.verdict == "rejected_auth"
    assert event.headers["Authorization"] == "Bearer (value not stored)"
    assert "guessed-token" not in json.dumps(event.headers) + event.reason + event.body
    assert Message.objects.get().status == "sent"


def test_basic_auth_instead_of_bearer_is_401(integration, post_callback, client):
    response = client.post(
        integration.callback_path,
        data=DOCUMENT_STATUS_SAMPLE,
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic OTo4OWNiNzgyYTBhMmZiNDEyMzgzMzA3MzhjYTgwMDJlZjZhN2YzYjJi",
    )

    assert response.status_code == 401
    assert "Bearer" in response.json()["message"]


def test_previous_token_is_accepted(integration, post_callback):
    message = sent_message(integration, "5cdbe7774a059")

    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE, token=PREVIOUS_TOKEN)

    assert response.json() == {"status": "000"}
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_callback_before_any_token_was_fetched_is_refused_with_the_reason(
    wappin_project, post_callback
):
    integration = factories.IntegrationFactory(project=wappin_project, kind="chatbot")

    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE)

    assert response.status_code == 401
    assert "no Wappin token yet" in response.json()["message"]


def test_malformed_json_is_400_and_kept_for_inspection(integration, post_callback):
    response = post_callback(integration, '{"message_id": "5cdbe7774a059", "callback_type": ')

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]
    event = CallbackEvent.objects.get()
    assert (event.verdict, event.state) == ("malformed", "skipped")
    assert event.body == '{"message_id": "5cdbe7774a059", "callback_type": '


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[1, 2]", "not an object"),
        ("", "empty"),
        ('{"message_id": "x1"}', "no callback_type"),
        ('{"callback_type": "status", "status_messages": "read"}', "no message_id"),
        (
            '{"callback_type": "status", "message_id": "x1", "status_messages": "-"}',
            "without status_messages",
        ),
        (
            '{"callback_type": "message", "message_id": "x1", "sender_number": "hello"}',
            "sender_number",
        ),
    ],
)
def test_bodies_we_cannot_use_are_400_with_a_reason(integration, post_callback, body, reason):
    response = post_callback(integration, body)

    assert response.status_code == 400
    assert reason in response.json()["message"]
    assert CallbackEvent.objects.get().verdict == "malformed"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"callback_type": "status", "message_id": ' + "9" * 5000 + "}", "not usable JSON"),
        ("[" * 30000 + "]" * 30000, "nested too deeply"),
        (b"\xff\xfe\x00{}", "not UTF-8"),
        ("\ufeff{}", "Unexpected UTF-8 BOM"),
        ('"a string"', "not an object"),
        ("12", "not an object"),
        ("null", "not an object"),
    ],
)
def test_junk_bodies_are_400_with_a_reason_never_a_500(integration, post_callback, body, reason):
    response = post_callback(integration, body)

    assert response.status_code == 400
    assert reason in response.json()["message"]
    assert CallbackEvent.objects.get().verdict == "malformed"


def test_nul_and_lone_surrogates_are_stored_as_replacement_characters(integration, post_callback):
    # Given a message callback whose JSON escapes cannot be stored as they are (PostgreSQL
    # refuses NUL; UTF-8 cannot encode a lone surrogate), and a User-Agent with a NUL
    body = message_body("5cdbe77d09ee7", "a\x00b\ud800c")  # json.dumps writes \u0000 and \ud800
    assert "\\u0000b\\ud800c" in body

    # When Wappin posts it
    response = post_callback(integration, body, HTTP_USER_AGENT="agent\x00x")

    # Then it is accepted and the customer's text arrives with the bad characters replaced
    assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert event.state == "processed"
    assert event.headers["User-Agent"] == "agent\ufffdx"
    inbound = Message.objects.get(direction="in")
    assert inbound.text == "a\ufffdb\ufffdc"


def test_unknown_callback_type_is_400_and_kept(integration, post_callback):
    body = json.dumps({"message_id": "5cdbe7774a059", "callback_type": "reaction"})

    response = post_callback(integration, body)

    assert response.status_code == 400
    assert "Unknown callback_type 'reaction'" in response.json()["message"]
    event = CallbackEvent.objects.get()
    assert (event.verdict, event.body) == ("unknown_type", body)


def test_a_body_over_the_cap_is_413(integration, post_callback):
    body = json.dumps({"callback_type": "message", "padding": "x" * CALLBACK_BODY_MAX_BYTES})

    response = post_callback(integration, body)

    assert response.status_code == 413
    event = CallbackEvent.objects.get()
    assert event.verdict == "malformed"
    assert event.body_size == len(body)
    assert len(event.body) <= 2048


def test_a_callback_for_another_wappin_project_is_refused(integration, post_callback):
    response = post_callback(integration, status_body("5cdbe7774a059", "read", project_id="17"))

    assert response.status_code == 400
    assert "Wappin project 17" in response.json()["message"]


def test_every_spelling_of_the_document_is_accepted(integration, post_callback):
    # The table's spellings (status_message, project_id, enviromtent) and a numeric timestamp
    message = sent_message(integration, "abc123")
    body = json.dumps(
        {
            "message_id": "abc123",
            "client_id": "0009",
            "project_id": "16",
            "status_message": "read",
            "enviromtent": "PRODUCTION",
            "timestamp": 1557915600,
            "callback_type": "status",
        }
    )

    response = post_callback(integration, body)

    assert response.json() == {"status": "000"}
    message.refresh_from_db()
    assert message.status == "read"
    assert message.read_at.timestamp() == 1557915600


def test_the_same_status_four_times_shuffled_with_others_counts_once(integration, post_callback):
    # Given two messages, and the callbacks of one delivery: each status once
    first = sent_message(integration, "aaa111")
    second = sent_message(integration, "bbb222")
    once = [
        status_body("aaa111", "sent", timestamp="1557915500"),
        status_body("aaa111", "delivered", timestamp="1557915510"),
        status_body("bbb222", "sent", timestamp="1557915501"),
        status_body("bbb222", "delivered", timestamp="1557915511"),
        status_body("bbb222", "read", timestamp="1557915521"),
    ]
    # When Wappin retries the "delivered" of the first three more times, shuffled among the rest
    deliveries = once + [once[1]] * 3
    random.Random(6).shuffle(deliveries)
    answers = [post_callback(integration, body).json() for body in deliveries]

    # Then every delivery was acknowledged, and the state is what one delivery each leaves
    assert answers == [{"status": "000"}] * 8
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("delivered", "read")
    assert list(first.status_events.values_list("status", flat=True)) == ["sent", "delivered"]
    assert first.delivered_at.timestamp() == 1557915510
    assert CallbackEvent.objects.filter(verdict="accepted").count() == 5
    duplicates = CallbackEvent.objects.filter(verdict="duplicate")
    assert duplicates.count() == 3
    assert {(e.wappin_message_id, e.status_value, e.state) for e in duplicates} == {
        ("aaa111", "delivered", "skipped")
    }


def test_a_late_delivered_does_not_undo_read(integration, post_callback):
    message = sent_message(integration, "ccc333")

    post_callback(integration, status_body("ccc333", "read", timestamp="1557915600"))
    post_callback(integration, status_body("ccc333", "delivered", timestamp="1557915500"))

    message.refresh_from_db()
    assert message.status == "read"
    late = message.status_events.get(status="delivered")
    assert late.applied is False


def test_an_unknown_status_word_is_recorded_not_applied(integration, post_callback):
    message = sent_message(integration, "ddd444")

    response = post_callback(integration, status_body("ddd444", "pending_review"))

    assert response.json() == {"status": "000"}
    message.refresh_from_db()
    assert message.status == "sent"
    step = message.status_events.get(source="callback")
    assert (step.status, step.applied) == ("pending_review", False)
    assert "unknown" in step.detail
    assert CallbackEvent.objects.get().state == "processed"


def test_a_wappin_word_that_looks_like_ours_is_not_applied(integration, post_callback):
    # "received" is our word for inbound messages: from Wappin, for an outgoing one, it means nothing to us
    message = sent_message(integration, "ddd445")

    post_callback(integration, status_body("ddd445", "received"))

    message.refresh_from_db()
    assert message.status == "sent"
    assert message.status_events.get(source="callback").status == "wappin:received"


def test_failed_status_marks_the_message_failed_with_a_reason(integration, post_callback):
    message = sent_message(integration, "eee555")

    post_callback(integration, status_body("eee555", "failed"))

    message.refresh_from_db()
    assert message.status == "failed"
    assert "failed" in message.failure_reason


def test_a_callback_skips_the_browser_middlewares_but_not_the_host_check(
    integration, post_callback, client, settings
):
    # When Wappin posts a status
    response = post_callback(integration, DOCUMENT_STATUS_SAMPLE)

    # Then no session, user or lock-out handler touched it (nothing to set or vary on)
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert "Cookie" not in response.get("Vary", "")
    assert response.get("X-Request-ID")  # the request log still saw it
    # ... while the chat panel beside it still goes through them (a login is asked for)
    assert client.get("/callbacks/chat/").status_code == 302
    # ... and a host the portal does not serve is refused as on every other page
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    refused = client.post(
        integration.callback_path, data=DOCUMENT_STATUS_SAMPLE, content_type="application/json"
    )
    assert refused.status_code == 400
