"""When Wappin fails or cannot be reached, and what the call log keeps (never a secret)."""

from __future__ import annotations

import base64
import logging
import socket

from django.core.exceptions import ImproperlyConfigured

import pytest

from messaging.models import WappinCallLog
from messaging.wappin import MediaUpload, WappinClient
from messaging.wappin.client import SEND_HSM_PATH, SEND_TEXT_PATH
from messaging.wappin.exceptions import WappinError, WappinTimeout, WappinUnavailable
from projects.models import WappinCredential
from tests import factories
from tests.messaging.wappin.conftest import GOOD_NUMBER
from tests.messaging.wappin.proxy import CountingProxy
from tests.wappin_sandbox import INVALID_NUMBER


@pytest.mark.parametrize("http_status", [500, 502, 503])
def test_a_gateway_error_is_retryable_and_logged_with_its_http_status(
    wappin, wappin_sandbox, http_status
):
    wappin.token_get()
    wappin_sandbox.knobs(error_5xx_rate=1.0, error_5xx_status=http_status)

    with pytest.raises(WappinUnavailable) as caught:
        wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")

    assert caught.value.retryable
    assert not isinstance(caught.value, WappinTimeout)
    row = WappinCallLog.objects.filter(endpoint=SEND_TEXT_PATH).get()
    assert (row.http_status, row.wappin_status) == (http_status, "")
    assert "tried again" in row.error


def test_a_read_timeout_is_a_retryable_timeout_whose_send_outcome_is_unknown(
    wappin, wappin_sandbox, settings
):
    wappin.token_get()
    settings.WAPPIN_TIMEOUT_SECONDS = 0.3
    wappin_sandbox.knobs(timeout_rate=1.0, timeout_sleep_s=1)

    with pytest.raises(WappinTimeout) as caught:
        wappin.send_hsm(
            recipient_number=GOOD_NUMBER,
            template_name="order_update",
            params={"1": "A", "2": "B"},
            header_param="B",
        )

    assert caught.value.retryable
    assert "may or may not have taken the message" in caught.value.message
    row = WappinCallLog.objects.filter(endpoint=SEND_HSM_PATH).get()
    assert row.http_status is None
    assert 250 <= row.latency_ms < 1000


def test_an_unreachable_wappin_is_retryable_and_nothing_was_sent(wappin, settings):
    wappin.token_get()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        settings.WAPPIN_BASE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"

    with pytest.raises(WappinUnavailable) as caught:
        wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")

    assert caught.value.retryable
    assert caught.value.code == "wappin_unreachable"
    assert WappinCallLog.objects.filter(endpoint=SEND_TEXT_PATH).get().http_status is None


def test_the_real_wappin_is_refused_when_forbidden(wappin, settings):
    settings.WAPPIN_BASE_URL = "https://api.wappin.id"
    settings.WAPPIN_FORBID_REAL_API = True

    with pytest.raises(ImproperlyConfigured):
        wappin.token_get()

    assert not WappinCallLog.objects.exists()


def test_a_call_log_row_links_the_message_it_was_made_for(wappin, project):
    message = factories.MessageFactory(project=project, phone_number=GOOD_NUMBER)

    wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo", message=message)
    with pytest.raises(WappinError):
        wappin.send_text(recipient_number=INVALID_NUMBER, text="Halo", message=message)

    rows = list(message.call_logs.order_by("id").values_list("endpoint", "wappin_status"))
    assert rows == [(SEND_TEXT_PATH, "200"), (SEND_TEXT_PATH, "601")]
    assert WappinCallLog.objects.get(endpoint="/v1/token/get").message is None


def test_no_token_or_secret_reaches_the_call_log_or_the_logs(
    wappin, wappin_sandbox, registered, caplog
):
    caplog.set_level(logging.DEBUG)
    # Given a run with successes, a revoked token, refusals and a Wappin outage
    wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")
    first_token = wappin.integration.credential.access_token
    wappin_sandbox.revoke_token(registered.project.client_id)
    wappin.send_media(
        recipient_number=GOOD_NUMBER,
        media_type="image",
        media=MediaUpload("a.png", b"\x89PNG0000", "image/png"),
    )
    for failing in (
        lambda: wappin.send_text(recipient_number=INVALID_NUMBER, text="Halo"),
        lambda: wappin.inquiry(wappin_message_id="nope"),
        lambda: wappin._request(
            SEND_TEXT_PATH, auth=f"Bearer{first_token}", json_body={}, about={}
        ),
    ):
        with pytest.raises(WappinError):
            failing()
    wappin_sandbox.knobs(error_5xx_rate=1.0)
    with pytest.raises(WappinUnavailable):
        wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")
    registered.secret_key = registered.secret_key[::-1]
    registered.save()
    wappin_sandbox.knobs(error_5xx_rate=0.0)
    wappin_sandbox.revoke_token(registered.project.client_id)
    with pytest.raises(WappinError):
        WappinClient(registered).send_text(recipient_number=GOOD_NUMBER, text="Halo")

    # Then neither the call log nor any log record holds a secret
    registered.refresh_from_db()
    secret_key = registered.secret_key[::-1]
    basic = base64.b64encode(f"{registered.project.client_id}:{secret_key}".encode()).decode()
    secrets = {
        first_token,
        # every token of every Wappin client row (the new secret key made a second one)
        *(
            token
            for credential in WappinCredential.objects.all()
            for token in (credential.access_token, credential.previous_access_token)
            if token
        ),
        secret_key,
        registered.secret_key,
        registered.client_key,
        basic,
    } - {""}
    assert WappinCallLog.objects.count() >= 10
    for row in WappinCallLog.objects.all():
        columns = " ".join(str(value) for value in row.__dict__.values())
        assert not [secret for secret in secrets if secret in columns], row
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert "Wappin" in logged
    assert not [secret for secret in secrets if secret in logged]


@pytest.mark.parametrize("http_status", [400, 401, 500])
def test_the_body_status_is_the_truth_whatever_the_http_code(
    wappin, wappin_sandbox, settings, http_status
):
    # Given Wappin's answers arrive with an unrelated HTTP code
    proxy = CountingProxy(wappin_sandbox.url)
    proxy.http_status_override = http_status
    settings.WAPPIN_BASE_URL = proxy.url
    try:
        # When the body says 200, the send succeeded; when it says 601, the number was refused
        sent = wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")
        with pytest.raises(WappinError) as caught:
            wappin.send_text(recipient_number=INVALID_NUMBER, text="Halo")
    finally:
        proxy.close()

    assert wappin_sandbox.sent(message_id=sent.message_id)
    assert caught.value.wappin_status == "601"
    assert not caught.value.retryable
    rows = WappinCallLog.objects.filter(endpoint=SEND_TEXT_PATH).order_by("id")
    assert [(row.http_status, row.wappin_status) for row in rows] == [
        (http_status, "200"),
        (http_status, "601"),
    ]


def test_the_pooled_session_is_kept_per_process_and_remade_after_a_fork(monkeypatch):
    from messaging.wappin import client as client_module

    session = client_module._session_get()
    assert client_module._session_get() is session

    # A forked worker sees another pid: it must not share the parent's sockets
    monkeypatch.setattr(client_module.os, "getpid", lambda: -1)
    assert client_module._session_get() is not session
