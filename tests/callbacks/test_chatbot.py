"""A customer writes: the incoming message, STOP, keywords, the default message, hand-over.

Replies are checked as the outgoing messages the chatbot queues; sending them to
Wappin is the messaging side's task (the end-to-end tests run it through the sandbox).
"""

from __future__ import annotations

import time

from django.utils import timezone

import pytest

from callbacks.models import CallbackEvent
from callbacks.services import callback_event_process
from messaging.models import Contact, Message
from tests import factories
from tests.callbacks.conftest import CURRENT_TOKEN, DOCUMENT_MESSAGE_SAMPLE, message_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def receive(client, integration, django_capture_on_commit_callbacks):
    """A customer writes `text`: the callback is posted and processed; replies stay queued."""
    counter = iter(range(1, 10_000))

    def write(
        text: str, *, sender: str = "628989229471", timestamp: str | int = ""
    ) -> CallbackEvent:
        body = message_body(f"in{next(counter):05d}", text, sender=sender, timestamp=timestamp)
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(
                integration.callback_path,
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {CURRENT_TOKEN}",
            )
        assert response.json() == {"status": "000"}
        event = CallbackEvent.objects.filter(verdict="accepted").latest("id")
        return callback_event_process(event_id=event.pk)

    return write


def replies() -> list[Message]:
    return list(Message.objects.filter(direction="out").order_by("id"))


def test_document_message_sample_stores_the_customer_message(
    client, integration, django_capture_on_commit_callbacks
):
    # When Wappin posts the document's message sample, exactly as printed
    with django_capture_on_commit_callbacks(execute=False) as tasks:
        response = client.post(
            integration.callback_path,
            data=DOCUMENT_MESSAGE_SAMPLE,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {CURRENT_TOKEN}",
        )
    assert response.json() == {"status": "000"}
    assert len(tasks) == 1
    callback_event_process(event_id=CallbackEvent.objects.get().pk)

    # Then the history shows the customer's message on their contact
    incoming = Message.objects.get(direction="in")
    assert (incoming.kind, incoming.status, incoming.source) == ("text", "received", "customer")
    assert (incoming.text, incoming.wappin_message_id, incoming.phone_number) == (
        "tesss",
        "5cdbe77d09ee7",
        "628989229471",
    )
    assert incoming.contact.phone_number == "628989229471"
    assert incoming.contact.last_inbound_at.timestamp() == 1557915516
    assert incoming.status_events.get().status == "received"
    # A 2019 message is far outside the 24-hour window: nobody answers it now
    assert replies() == []
    assert "24-hour window" in CallbackEvent.objects.get().result


def test_a_new_message_opens_the_24_hour_window(receive, integration):
    receive("hello", sender="0812-3456-7890")

    contact = Contact.objects.get(project=integration.project)
    assert contact.phone_number == "6281234567890"
    assert contact.window_is_open()


def test_a_keyword_is_answered_with_its_response(receive, integration):
    factories.ChatbotKeywordFactory(
        project=integration.project,
        keyword="promo",
        normalized_keyword="promo",
        response_text="Today's promo: 20% off.",
    )

    event = receive("  PROMO  please")

    [reply] = replies()
    assert (reply.text, reply.source, reply.kind, reply.phone_number) == (
        "Today's promo: 20% off.",
        "chatbot",
        "text",
        "628989229471",
    )
    assert reply.status_events.get().status == "queued"
    assert event.reply == reply
    assert "Keyword 'promo' answered" in event.result


def test_a_media_keyword_is_answered_with_its_media(receive, integration):
    from django.core.files.base import ContentFile

    keyword = factories.ChatbotKeywordFactory(
        project=integration.project,
        keyword="katalog",
        normalized_keyword="katalog",
        response_type="document",
        response_text="",
        caption="Our catalogue",
    )
    keyword.response_media.save("katalog.pdf", ContentFile(b"%PDF-1.4 catalogue"), save=True)

    receive("katalog")

    [reply] = replies()
    assert (reply.kind, reply.media_type, reply.caption, reply.source) == (
        "media",
        "document",
        "Our catalogue",
        "chatbot",
    )
    assert reply.media.read() == b"%PDF-1.4 catalogue"


def test_no_match_sends_the_default_chatbot_message(receive, integration):
    event = receive("what time do you open?")

    [reply] = replies()
    assert reply.text == integration.project.default_chatbot_message
    assert "default chatbot message" in event.result


def test_no_match_and_no_default_message_stays_silent(receive, integration):
    integration.project.default_chatbot_message = ""
    integration.project.save()

    event = receive("anyone there?")

    assert replies() == []
    assert "no default chatbot message" in event.result


def test_stop_opts_out_and_is_confirmed_once(receive, integration):
    # When the customer writes STOP, then "stop" again
    receive("STOP")
    receive(" stop ")

    # Then they are opted out, and confirmed only the first time
    contact = Contact.objects.get()
    assert contact.is_opted_out
    [confirmation] = replies()
    assert "no longer receive promotional messages from Wappin Info" in confirmation.text
    assert confirmation.source == "chatbot"


def test_berhenti_opts_out_in_indonesian_and_mulai_opts_back_in(receive):
    receive("Berhenti")
    assert Contact.objects.get().is_opted_out

    receive("MULAI")

    assert not Contact.objects.get().is_opted_out
    texts = [m.text for m in replies()]
    assert texts[0].startswith("Anda tidak akan menerima pesan promosi")
    assert texts[1].startswith("Selamat datang kembali")


def test_stop_and_start_are_answered_with_the_projects_own_texts(receive, integration):
    project = integration.project
    project.business_name = "Toko Budi"
    project.opt_out_confirmation_id = "Baik, {business} tidak akan mengirim promo lagi."
    project.opt_in_confirmation_en = "{business}: welcome back. {business.__class__}"
    project.save()

    receive("BERHENTI")
    receive("start")

    texts = [m.text for m in replies()]
    assert texts == [
        "Baik, Toko Budi tidak akan mengirim promo lagi.",
        # Only {business} is replaced: no other format field is read
        "Toko Budi: welcome back. {business.__class__}",
    ]


def test_start_without_having_stopped_is_just_a_message(receive, integration):
    receive("start")

    assert not Contact.objects.get().is_opted_out
    # Not a keyword either: the default message answers
    assert [m.text for m in replies()] == [integration.project.default_chatbot_message]


def test_a_chat_panel_keyword_hands_over_and_the_chatbot_then_stays_silent(receive, integration):
    factories.ChatbotKeywordFactory(
        project=integration.project,
        keyword="halo wappin",
        normalized_keyword="halo wappin",
        scenario="chat_panel",
        response_text="An agent will answer you shortly.",
    )

    # When the customer asks for a person, then writes more
    event = receive("Halo   Wappin")
    receive("my order is late")
    receive("promo")

    # Then the conversation is handed over, its response sent once, and nothing else automatic
    contact = Contact.objects.get()
    assert contact.handed_over_at is not None
    assert [m.text for m in replies()] == ["An agent will answer you shortly."]
    assert "handed the chat to a person" in event.result
    assert Message.objects.filter(direction="in").count() == 3


def test_stop_still_works_while_handed_over(receive, integration):
    Contact.objects.create(
        project=integration.project, phone_number="628989229471", handed_over_at=timezone.now()
    )

    receive("stop")

    assert Contact.objects.get().is_opted_out
    assert len(replies()) == 1


def test_processing_again_neither_duplicates_the_message_nor_answers_twice(receive):
    event = receive("hello")

    again = callback_event_process(event_id=event.pk)

    assert Message.objects.filter(direction="in").count() == 1
    assert len(replies()) == 1
    assert again.attempts == 2
    assert again.state == "processed"


def test_a_retried_message_callback_is_stored_once(
    client, integration, django_capture_on_commit_callbacks
):
    body = message_body("dup00001", "hello", timestamp=str(int(time.time())))
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(
                integration.callback_path,
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {CURRENT_TOKEN}",
            )
        assert response.json() == {"status": "000"}
    for event in CallbackEvent.objects.all():
        callback_event_process(event_id=event.pk)

    assert Message.objects.filter(direction="in").count() == 1
    assert len(replies()) == 1
    assert (
        sorted(CallbackEvent.objects.values_list("verdict", flat=True))
        == ["accepted"] + ["duplicate"] * 3
    )


def test_one_message_posted_to_both_urls_of_a_project_is_answered_once(
    integration, wappin_project, post_callback
):
    # Issue 10, finding 10: a message on the chatbot URL and the notification URL got two replies
    from tests.callbacks.conftest import PREVIOUS_TOKEN

    notification = factories.IntegrationFactory(
        project=wappin_project,
        kind="notification",
        access_token=CURRENT_TOKEN,
        previous_access_token=PREVIOUS_TOKEN,
    )
    body = message_body("twice001", "hello there")

    # When Wappin posts the same customer message to both of the project's URLs
    assert post_callback(integration, body).json() == {"status": "000"}
    assert post_callback(notification, body).json() == {"status": "000"}

    # Then it is stored once as a message and answered once; the second is a known duplicate
    assert Message.objects.filter(direction="in", wappin_message_id="twice001").count() == 1
    assert len(replies()) == 1
    assert list(CallbackEvent.objects.order_by("id").values_list("verdict", flat=True)) == [
        "accepted",
        "duplicate",
    ]


def test_a_stop_survives_the_contact_being_renumbered_deleted_or_imported_again(
    receive, integration, wappin_project, django_capture_on_commit_callbacks
):
    # Issue 10, finding 3: after a renumber (or a delete) a marketing send to the number went out
    from rest_framework.test import APIClient

    from messaging.contacts.services import contact_delete, contact_update
    from projects.services import api_key_create
    from templates_app.models import Template

    template = factories.TemplateFactory(
        project=wappin_project, name="promo", message_type=Template.MessageType.MARKETING
    )
    factories.TemplateLanguageFactory(template=template, language_code="id")
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=wappin_project, name='k').raw_key}"
    )

    def marketing_send(number: str):
        with django_capture_on_commit_callbacks(execute=False):
            return api.post(
                "/api/v1/messages/hsm/",
                {
                    "recipient_number": number,
                    "type": "promo",
                    "language_code": "id",
                    "params": {"1": "Budi", "2": "INV-1"},
                },
                format="json",
            )

    first = marketing_send("6281234567099")
    assert first.status_code == 202, first.content

    # Given a customer who sent STOP
    receive("STOP", sender="6281234567020")
    contact = Contact.objects.get(phone_number="6281234567020")
    assert contact.is_opted_out and marketing_send("6281234567020").status_code == 409

    # When a marketer gives the contact another number, the STOP stays with the number
    contact_update(contact=contact, phone_number="6281234567021")
    assert not Contact.objects.get(pk=contact.pk).is_opted_out
    assert marketing_send("6281234567020").status_code == 409
    # ... and when the contact is deleted
    contact_delete(contact=Contact.objects.get(pk=contact.pk))
    assert marketing_send("6281234567020").status_code == 409
    # ... and when the number comes back as a new contact, it shows opted out
    from messaging.contacts.services import contact_create

    again = contact_create(project=wappin_project, phone_number="6281234567020", name="Again")
    assert again.is_opted_out and Contact.objects.get(pk=again.pk).is_opted_out

    # Then START takes it off the list
    receive("START", sender="6281234567020")
    assert marketing_send("6281234567020").status_code == 202
