"""Tokens: fetched, stored, refreshed ahead of expiry and after a 401, one refresh at a time."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

import pytest

from messaging.models import WappinCallLog
from messaging.wappin import WappinClient
from messaging.wappin.client import TOKEN_PATH, token_expiry_parse
from messaging.wappin.exceptions import WappinAuthError, WappinIPNotAllowed
from projects.models import Integration, WappinCredential
from tests import factories
from tests.messaging.wappin.conftest import GOOD_NUMBER
from tests.messaging.wappin.proxy import CountingProxy


@pytest.fixture(autouse=True)
def _forget_token_confirmations():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _token_calls() -> int:
    return WappinCallLog.objects.filter(endpoint=TOKEN_PATH).count()


def test_expired_datetime_is_read_in_the_configured_timezone(settings):
    settings.WAPPIN_TOKEN_TIMEZONE = "Asia/Jakarta"

    assert token_expiry_parse("2019-07-20 16:21:51") == datetime(
        2019, 7, 20, 9, 21, 51, tzinfo=ZoneInfo("UTC")
    )
    assert token_expiry_parse("20 July 2019") is None


def test_token_get_stores_the_token_and_its_expiry(wappin, wappin_sandbox, registered):
    token = wappin.token_get()

    registered.refresh_from_db()
    sandbox_token = wappin_sandbox.tokens()[registered.project.client_id]
    assert token == registered.credential.access_token == sandbox_token["access_token"]
    assert registered.credential.token_expires_at == token_expiry_parse(
        sandbox_token["expired_datetime"]
    )
    assert (
        timedelta(days=6, hours=23)
        < registered.credential.token_expires_at - timezone.now()
        <= timedelta(days=7)
    )


def test_a_fresh_token_is_used_without_asking_wappin_again(wappin):
    wappin.send_text(recipient_number=GOOD_NUMBER, text="one")
    WappinClient(Integration.objects.get(pk=wappin.integration.pk)).send_text(
        recipient_number=GOOD_NUMBER, text="two"
    )

    assert _token_calls() == 1


def test_token_not_expired_is_a_success_and_is_trusted_for_a_while(wappin, registered):
    # Given a token that is inside our refresh margin but still valid at Wappin
    first = wappin.token_get()
    WappinCredential.objects.filter(pk=registered.credential_id).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    due = WappinClient(Integration.objects.get(pk=registered.pk))

    # When we ask, Wappin answers "Token not expired" with the same token
    assert due.token_get() == first
    due.send_text(recipient_number=GOOD_NUMBER, text="Halo")

    # Then its expiry is Wappin's again, and one ask was enough
    log = WappinCallLog.objects.filter(endpoint=TOKEN_PATH).order_by("id")
    assert [row.wappin_status for row in log] == ["200", "200"]
    registered.refresh_from_db()
    assert registered.credential.access_token == first
    assert registered.credential.token_expires_at > timezone.now() + timedelta(days=6)


def test_token_not_expired_inside_the_margin_is_not_asked_for_on_every_call(
    wappin, wappin_sandbox, registered, settings
):
    # Given Wappin's token expires in 30 minutes and our margin is an hour
    settings.WAPPIN_TOKEN_REFRESH_MARGIN_SECONDS = 3600
    wappin_sandbox.knobs(token_ttl_s=1800)
    wappin.token_get()

    # When several calls follow
    for _ in range(3):
        WappinClient(Integration.objects.get(pk=registered.pk)).send_text(
            recipient_number=GOOD_NUMBER, text="Halo"
        )

    # Then Wappin was asked once more ("Token not expired"), not on every call
    assert _token_calls() == 2


def test_an_expired_token_is_replaced_and_the_previous_one_kept_for_callbacks(
    wappin, wappin_sandbox, registered
):
    old = wappin.token_get()
    wappin_sandbox.expire_token(registered.project.client_id)
    WappinCredential.objects.filter(pk=registered.credential_id).update(
        token_expires_at=timezone.now() - timedelta(seconds=1)
    )

    new = WappinClient(Integration.objects.get(pk=registered.pk)).token_get()

    registered.refresh_from_db()
    assert new != old
    assert registered.credential.access_token == new
    assert registered.credential.previous_access_token == old


def test_a_wrong_secret_key_is_401_invalid_credential(wappin, registered):
    registered.secret_key = "not-the-secret"
    registered.save()

    with pytest.raises(WappinAuthError) as caught:
        WappinClient(registered).token_get()

    assert caught.value.wappin_status == "401"
    assert not caught.value.retryable
    assert f"client ID {registered.project.client_id}" in caught.value.message
    assert WappinCallLog.objects.get().wappin_status == "401"


def test_a_token_request_from_outside_the_whitelist_is_407(wappin_sandbox, integration, db):
    integration.ip_whitelist = ["10.0.0.0/8"]
    integration.save()
    wappin_sandbox.register(integration)

    with pytest.raises(WappinIPNotAllowed) as caught:
        WappinClient(integration).token_get()

    assert caught.value.wappin_status == "407"


def test_a_garbled_basic_header_is_406(wappin):
    with pytest.raises(WappinAuthError) as caught:
        wappin._request(TOKEN_PATH, auth="Basic not-base64!", about={})

    assert caught.value.wappin_status == "406"


def test_an_integration_without_credentials_does_not_call_wappin(wappin_sandbox, project):
    bare = factories.IntegrationFactory(project=project, secret_key="")

    with pytest.raises(WappinAuthError) as caught:
        WappinClient(bare).token_get()

    assert caught.value.code == "wappin_credentials_missing"
    assert not WappinCallLog.objects.exists()


def test_a_token_revoked_in_the_middle_of_a_run_is_refreshed_and_the_send_resent(
    wappin, wappin_sandbox, registered
):
    # Given three messages sent with the first token
    first = [wappin.send_text(recipient_number=GOOD_NUMBER, text=f"a{n}") for n in range(3)]
    old_token = wappin.integration.credential.access_token

    # When Wappin revokes it and the run goes on
    wappin_sandbox.revoke_token(registered.project.client_id)
    second = [wappin.send_text(recipient_number=GOOD_NUMBER, text=f"b{n}") for n in range(3)]

    # Then every message went through, after one refresh and one resend
    assert len({r.message_id for r in first + second}) == 6
    assert len(wappin_sandbox.sent(endpoint="do-send")) == 6
    statuses = list(WappinCallLog.objects.order_by("id").values_list("endpoint", "wappin_status"))
    assert statuses.count((TOKEN_PATH, "200")) == 2
    assert statuses.count(("/v1/message/do-send", "401")) == 1
    registered.refresh_from_db()
    assert registered.credential.access_token != old_token
    assert registered.credential.previous_access_token == old_token


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_callers_with_an_expired_token_make_one_token_request(
    wappin_sandbox, settings
):
    # Given an integration whose token has expired, at Wappin and in the portal
    integration = factories.IntegrationFactory(project=factories.ProjectFactory())
    wappin_sandbox.register(integration)
    WappinClient(integration).token_get()
    wappin_sandbox.expire_token(integration.project.client_id)
    WappinCredential.objects.filter(pk=integration.credential_id).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    # ...and an observer on the wire between the portal and the sandbox
    proxy = CountingProxy(wappin_sandbox.url)
    settings.WAPPIN_BASE_URL = proxy.url
    callers = 8
    barrier = threading.Barrier(callers)
    results: list[str] = []
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        try:
            client = WappinClient(
                Integration.objects.select_related("project").get(pk=integration.pk)
            )
            barrier.wait(timeout=10)
            results.append(
                client.send_text(recipient_number=GOOD_NUMBER, text=f"race {n}").message_id
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    # When eight workers send at once
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    proxy.close()

    # Then Wappin saw exactly one token request, and every send used its token
    assert errors == []
    assert len(set(results)) == callers
    assert proxy.counts["/v1/token/get"] == 1
    assert proxy.counts["/v1/message/do-send"] == callers
    integration.refresh_from_db()
    assert {auth for auth in proxy.authorizations if auth.startswith("Bearer")} == {
        f"Bearer {integration.credential.access_token}"
    }
    assert (
        WappinCallLog.objects.filter(endpoint=TOKEN_PATH).count() == 2
    )  # the first fetch, then one
