"""End to end through the Wappin sandbox: a simulated customer writes, the sandbox posts the
callback to a live portal, and the chatbot's answer goes back to the sandbox over real HTTP."""

from __future__ import annotations

import time

from django.utils import timezone

import pytest

from callbacks.models import CallbackEvent
from callbacks.services import SWEEP_GRACE, callbacks_sweep
from messaging.models import Contact, Message
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "628123456789"


def eventually(check, *, timeout: float = 15.0):
    """Poll until `check()` is truthy (the sandbox and the live server work in other threads)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def portal(live_server, wappin_sandbox):
    """A project whose chatbot integration Wappin (the sandbox) calls back on the live server."""
    project = factories.ProjectFactory(
        client_id="0070",
        wappin_project_id="476",
        business_name="Toko Demo",
        default_chatbot_message="Halo! Ketik PROMO untuk penawaran hari ini.",
    )
    integration = factories.IntegrationFactory(project=project, kind="chatbot")
    integration.callback_url = live_server.url + integration.callback_path
    integration.save()
    wappin_sandbox.register(integration)
    wappin_sandbox.knobs(callbacks_enabled=True)
    return project, integration, wappin_sandbox


def customer_writes(portal, text: str) -> Message:
    project, _integration, sandbox = portal
    before = Message.objects.filter(direction="in").count()
    sandbox.customer_message(project=project, sender_number=CUSTOMER, message_content=text)
    assert eventually(lambda: Message.objects.filter(direction="in").count() > before), (
        "no incoming message"
    )
    return Message.objects.filter(direction="in").latest("id")


def replies_sent(sandbox) -> list[str]:
    return [m["fields"].get("message_content", "") for m in sandbox.sent(endpoint="do-send")]


def wait_for_callbacks_to_settle(sandbox, *, count: int) -> None:
    eventually(lambda: len([c for c in sandbox.callbacks() if c.get("accepted")]) >= count)


def token_fetched(integration) -> None:
    from messaging.wappin import WappinClient

    WappinClient(integration).token_get()


def test_a_keyword_is_answered_through_wappin(portal):
    project, integration, sandbox = portal
    token_fetched(integration)
    factories.ChatbotKeywordFactory(
        project=project,
        keyword="promo",
        normalized_keyword="promo",
        response_text="Promo hari ini: diskon 20%.",
    )

    # When a customer writes "Promo" to the business on WhatsApp
    incoming = customer_writes(portal, "Promo")

    # Then the portal stored it, and its answer reached Wappin as a chatbot message
    assert (incoming.text, incoming.phone_number, incoming.source) == (
        "Promo",
        CUSTOMER,
        "customer",
    )
    reply = eventually(
        lambda: Message.objects.filter(direction="out", wappin_message_id__gt="").first()
    )
    assert (reply.text, reply.source) == ("Promo hari ini: diskon 20%.", "chatbot")
    assert eventually(lambda: "Promo hari ini: diskon 20%." in replies_sent(sandbox))

    # And Wappin's status callbacks for the answer move its history (applied as they come,
    # or by the sweep once the send answer is stored: run here as if its grace had passed)
    def read():
        callbacks_sweep(now=timezone.now() + SWEEP_GRACE)
        reply.refresh_from_db()
        return reply.status == "read"

    assert eventually(read)
    assert list(reply.status_events.filter(source="callback").values_list("status", flat=True)) == [
        "sent",
        "delivered",
        "read",
    ]


def test_an_unknown_word_gets_the_default_message(portal):
    project, integration, sandbox = portal
    token_fetched(integration)

    customer_writes(portal, "jam buka toko?")

    assert eventually(
        lambda: "Halo! Ketik PROMO untuk penawaran hari ini." in replies_sent(sandbox)
    )
    assert Message.objects.get(direction="out").source == "chatbot"


def test_stop_opts_out_and_is_confirmed_once(portal):
    project, integration, sandbox = portal
    token_fetched(integration)

    customer_writes(portal, "STOP")
    customer_writes(portal, "stop")

    assert Contact.objects.get(phone_number=CUSTOMER).is_opted_out
    assert eventually(lambda: len(replies_sent(sandbox)) >= 1)
    time.sleep(0.3)
    confirmations = [text for text in replies_sent(sandbox) if "no longer receive" in text]
    assert len(confirmations) == 1
    assert Message.objects.filter(direction="out").count() == 1


def test_a_chat_panel_keyword_hands_over_to_a_person(portal):
    project, integration, sandbox = portal
    token_fetched(integration)
    factories.ChatbotKeywordFactory(
        project=project,
        keyword="halo wappin",
        normalized_keyword="halo wappin",
        scenario="chat_panel",
        response_text="Agen kami segera membalas.",
    )

    customer_writes(portal, "halo wappin")
    customer_writes(portal, "pesanan saya belum sampai")

    contact = Contact.objects.get(phone_number=CUSTOMER)
    assert contact.handed_over_at is not None
    assert eventually(lambda: "Agen kami segera membalas." in replies_sent(sandbox))
    time.sleep(0.3)
    # Only the hand-over's own answer: while a person has the chat, the chatbot is silent
    assert replies_sent(sandbox) == ["Agen kami segera membalas."]


def test_the_first_callback_before_any_token_gets_in_on_wappins_retry(portal):
    project, integration, sandbox = portal
    assert integration.credential.access_token == ""

    # When a customer writes before the portal ever called Wappin
    incoming = customer_writes(portal, "halo")

    # Then the first attempt was refused (no token to check against), the portal fetched its
    # token, and Wappin's retry was let in
    # (the sandbox logs the accepted retry only once it has read the portal's answer)
    def attempts():
        found = sorted(
            (a["attempt"], a["accepted"]) for a in sandbox.callbacks(callback_type="message")
        )
        return found if found and found[-1][1] is True else None

    outcomes = eventually(attempts)
    assert outcomes, "Wappin's retry was never accepted"
    assert outcomes[0] == (1, False)
    assert outcomes[-1][1] is True
    assert CallbackEvent.objects.filter(verdict="rejected_auth").count() >= 1
    assert incoming.text == "halo"
