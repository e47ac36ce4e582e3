"""The live parts, in a browser under the strict CSP: nothing here reloads the page.

Each test counts the page's `load` events after it opened: a reload (or a meta refresh)
would add one. Deadlines are generous (a busy machine); the polls themselves run every
2 s (chat thread, blast progress) or 3 s (template status)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from messaging.blasts import services as blast_services
from messaging.models import Contact, ContactGroup, Message
from templates_app.models import Template
from templates_app.services import template_approve
from tests import factories
from tests.wappin_sandbox import UNDELIVERABLE_NUMBER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Generous: a shared, busy machine. The design's own delay is the poll interval.
DEADLINE_MS = 20_000


def eventually(check, *, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def watch(page):
    """Record reloads and the policy's refusals from now on."""
    seen = {"loads": 0, "refused": []}
    page.on("load", lambda: seen.__setitem__("loads", seen["loads"] + 1))
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and seen["refused"].append(message.text)
        ),
    )
    return seen


def _calls_back(sandbox, live_server, project, kind: str):
    """The project's Wappin (the sandbox) calls the live portal back through one integration."""
    integration = factories.IntegrationFactory(project=project, kind=kind)
    integration.callback_url = live_server.url + integration.callback_path
    integration.save()
    sandbox.register(integration)
    sandbox.knobs(callbacks_enabled=True)
    return sandbox


@pytest.fixture
def chatbot_calls_back(live_server, wappin_sandbox, project):
    yield _calls_back(wappin_sandbox, live_server, project, "chatbot")
    wappin_sandbox.quiesce()


@pytest.fixture
def notifications_call_back(live_server, wappin_sandbox, project):
    yield _calls_back(wappin_sandbox, live_server, project, "notification")
    wappin_sandbox.quiesce()


def test_a_template_approved_while_its_page_is_open_shows_approved(
    logged_in_page, live_server, project, admin_user
):
    from playwright.sync_api import expect

    # Given a template waiting for WhatsApp's decision, its page open
    template = factories.TemplateFactory(
        project=project, name="order_update", status=Template.Status.ON_PROCESS
    )
    factories.TemplateLanguageFactory(template=template)
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('templates_app:template_detail', args=[template.pk])}")
    status = page.locator("#template-status")
    expect(status).to_contain_text("On process")
    seen = watch(page)
    # When WhatsApp's approval is recorded
    template_approve(template=Template.objects.get(pk=template.pk), actor=admin_user)
    # Then the page says "Approved" by itself
    expect(status).to_contain_text("Approved", timeout=DEADLINE_MS)
    assert seen == {"loads": 0, "refused": []}


def test_a_customers_message_appears_in_the_open_chat_thread(
    logged_in_page, live_server, project, chatbot_calls_back
):
    sandbox_calls_back = chatbot_calls_back
    from playwright.sync_api import expect

    # Given a customer who wrote once, their thread open
    number = "6281277770001"
    sandbox_calls_back.customer_message(
        project=project, sender_number=number, message_content="Halo, saya Budi"
    )
    assert eventually(lambda: Message.objects.filter(direction="in").exists())
    contact = Contact.objects.get(project=project, phone_number=number)
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('callbacks:chat_conversation', args=[contact.pk])}")
    thread = page.locator("#chat-thread")
    expect(thread).to_contain_text("Halo, saya Budi")
    seen = watch(page)
    # When they write again from WhatsApp (the sandbox's simulated customer)
    sandbox_calls_back.customer_message(
        project=project, sender_number=number, message_content="Apakah pesanan saya sudah dikirim?"
    )
    # Then the new bubble appears in the open thread (polled every 2 s)
    expect(thread).to_contain_text("Apakah pesanan saya sudah dikirim?", timeout=DEADLINE_MS)
    assert seen == {"loads": 0, "refused": []}


def test_blast_progress_reaches_every_recipients_final_status_without_a_reload(
    logged_in_page, live_server, project, admin_user, notifications_call_back
):
    sandbox_calls_back = notifications_call_back
    from playwright.sync_api import expect

    # Given a group of three (one number Wappin cannot deliver to), statuses a second apart
    sandbox_calls_back.knobs(callback_delay_ms=1500)
    template = factories.TemplateFactory(
        project=project, name="weekend_promo", message_type=Template.MessageType.MARKETING
    )
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}, 20% off this weekend!")
    sandbox_calls_back.add_template(template)
    group = ContactGroup.objects.create(project=project, name="VIP")
    for name, number in (
        ("Budi", "6281200000001"),
        ("Sari", "6281200000002"),
        ("Lost", UNDELIVERABLE_NUMBER),
    ):
        factories.ContactFactory(project=project, name=name, phone_number=number).groups.add(group)
    blast = blast_services.blast_create(
        project=project,
        name="Weekend",
        template_name="weekend_promo",
        group=group,
        params={"1": {"source": "name"}},
        created_by=admin_user,
    )
    # When it is started and its page opened
    blast_services.blast_start(blast_id=blast.pk)
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('messaging:blast_detail', args=[blast.pk])}")
    progress = page.locator("#blast-progress")
    expect(progress).to_contain_text("follow by themselves")
    seen = watch(page)
    # Then the figures move on their own to every recipient's final status
    expect(progress).to_contain_text("Read 2", timeout=DEADLINE_MS)
    expect(progress).to_contain_text("Failed 1", timeout=DEADLINE_MS)
    expect(progress).to_contain_text("Every recipient has a final status.", timeout=DEADLINE_MS)
    expect(page.locator("#blast-status")).to_contain_text("Done", timeout=DEADLINE_MS)
    assert seen == {"loads": 0, "refused": []}


def test_a_closed_window_offers_a_template_instead_of_text(logged_in_page, live_server, project):
    from playwright.sync_api import expect

    # Given a customer who last wrote 25 hours ago, and an approved template with buttons
    template = factories.TemplateFactory(project=project, name="order_update")
    factories.TemplateLanguageFactory(
        template=template,
        body="Halo {{1}}, pesanan Anda sudah dikirim.",
        buttons=[{"type": "url", "text": "Lacak", "url": "https://shop.example/track"}],
    )
    when = timezone.now() - timedelta(hours=25)
    contact = factories.ContactFactory(project=project, name="Budi", last_inbound_at=when)
    factories.MessageFactory(
        project=project,
        contact=contact,
        direction="in",
        status="received",
        source="customer",
        text="x" * 4096,
        created_at=when,
    )
    page = logged_in_page
    page.goto(f"{live_server.url}{reverse('callbacks:chat_conversation', args=[contact.pk])}")
    composer = page.locator("#chat-composer")
    # Then there is no text box: "send a template" instead, and the window says why
    expect(composer).to_contain_text("Send a template")
    assert composer.locator("textarea").count() == 0
    expect(page.locator("#chat-window")).to_contain_text("24-hour window closed")
    # And a 4,096-character word wraps in its bubble: the page does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # When the marketer picks the template and types its value, the preview follows
    page.select_option("#id_template", "order_update")
    page.wait_for_selector("#id_param_1")
    seen = watch(page)
    page.fill("#id_param_1", "Budi")
    expect(page.locator("#chat-template-preview")).to_contain_text(
        "Halo Budi, pesanan Anda sudah dikirim.", timeout=DEADLINE_MS
    )
    expect(page.locator("#chat-template-preview")).to_contain_text("Lacak")
    assert seen == {"loads": 0, "refused": []}
