"""One token per Wappin client: every integration of a client id and secret key shares it
(issue 13). Through the sandbox over real HTTP; the callbacks are posted as Wappin does."""

from __future__ import annotations

import pytest

from callbacks.models import CallbackEvent
from messaging.models import WappinCallLog
from messaging.wappin import WappinClient
from messaging.wappin.client import TOKEN_PATH
from projects.models import Integration, WappinCredential
from tests import factories
from tests.callbacks.conftest import message_body

pytestmark = pytest.mark.django_db

CUSTOMER = "628989229471"


@pytest.fixture
def one_client(wappin_sandbox):
    """A project (the document's client 0009, project 16) with a notification and a chatbot
    integration holding the same secret key: one Wappin client."""
    project = factories.ProjectFactory(client_id="0009", wappin_project_id="16")
    notification = factories.IntegrationFactory(
        project=project, kind="notification", secret_key="the-clients-secret"
    )
    chatbot = factories.IntegrationFactory(
        project=project, kind="chatbot", secret_key="the-clients-secret"
    )
    wappin_sandbox.register(notification, chatbot)
    return notification, chatbot


@pytest.fixture
def post_signed(client, django_capture_on_commit_callbacks):
    """POST a customer's message to an integration's callback URL signed with `token`."""
    sequence = iter(range(1, 1000))

    def post(integration, token: str):
        body = message_body(f"5cdbe77d{next(sequence):05x}", "halo", sender=CUSTOMER)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                integration.callback_path,
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )

    return post


def _token_calls() -> int:
    return WappinCallLog.objects.filter(endpoint=TOKEN_PATH).count()


def test_the_integrations_of_one_client_share_one_token_row(one_client):
    notification, chatbot = one_client

    assert WappinCredential.objects.count() == 1
    assert notification.credential_id == chatbot.credential_id is not None
    other_secret = factories.IntegrationFactory(
        project=notification.project, kind="chatbot", environment="uat", secret_key="another"
    )
    assert other_secret.credential_id != notification.credential_id


def test_a_refresh_by_a_send_lets_in_callbacks_signed_with_the_new_token_on_the_other_integration(
    one_client, wappin_sandbox, post_signed
):
    notification, chatbot = one_client
    # Given the client's token, fetched once, checked on the chatbot's URL (and cached there)
    old = WappinClient(notification).token_get()
    assert post_signed(chatbot, old).status_code == 200

    # When Wappin voids it and a send through the notification integration is refused,
    # which refreshes the token
    wappin_sandbox.revoke_token("0009")
    WappinClient(Integration.objects.get(pk=notification.pk)).send_text(
        recipient_number=CUSTOMER, text="Pesanan Anda dikirim."
    )
    new = WappinCredential.objects.get().access_token
    assert new != old

    # Then a callback signed with the new token is let in on the chatbot's URL, without the
    # chatbot integration ever asking Wappin, and the old one still counts for a moment
    assert post_signed(chatbot, new).status_code == 200
    assert post_signed(chatbot, old).status_code == 200
    assert _token_calls() == 2  # the first fetch and the refresh, both for the one client
    assert CallbackEvent.objects.filter(verdict="accepted").count() == 3


def test_an_unknown_bearer_fetches_the_clients_token_at_most_once_a_minute(
    one_client, wappin_sandbox, post_signed
):
    notification, chatbot = one_client
    WappinClient(notification).token_get()
    # Given Wappin now has another token for the client (regenerated in its dashboard,
    # or fetched by another program holding the key), which the portal does not know
    wappin_sandbox.revoke_token("0009")
    regenerated = wappin_sandbox.token_get(client_id="0009", secret_key="the-clients-secret")
    calls_before = _token_calls()

    # When Wappin's first attempt of a callback carries it
    first = post_signed(chatbot, regenerated)

    # Then that attempt is refused, and the portal asked Wappin for the client's token...
    assert first.status_code == 401
    assert _token_calls() == calls_before + 1
    assert WappinCredential.objects.get().access_token == regenerated
    # ...so Wappin's retry gets in, on either integration of the client
    assert post_signed(chatbot, regenerated).status_code == 200
    assert post_signed(notification, regenerated).status_code == 200

    # And forged tokens on both URLs ask Wappin no more within the minute (per client)
    for integration in (chatbot, notification, chatbot):
        assert post_signed(integration, "f" * 64).status_code == 401
    assert _token_calls() == calls_before + 1


def test_a_token_fetch_for_one_client_does_not_hold_back_another(
    one_client, wappin_sandbox, post_signed
):
    _notification, chatbot = one_client
    other = factories.IntegrationFactory(
        project=factories.ProjectFactory(client_id="0010", wappin_project_id="17"),
        kind="chatbot",
    )
    wappin_sandbox.register(other)

    post_signed(chatbot, "f" * 64)
    post_signed(other, "f" * 64)

    assert _token_calls() == 2
