"""The chat panel's live parts and its conversation tools: the list (unread, last message,
filters), assignment (audited), the thread's poll, the 24-hour window and the template composer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.urls import reverse
from django.utils import timezone

import pytest

from callbacks import selectors, services
from callbacks.models import Conversation, ConversationRead
from messaging.models import Message
from projects.models import AuditEvent
from tests import factories
from wappin_portal.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def customer_wrote(project, *, name="Budi", text="hi", minutes_ago=1, contact=None):
    when = timezone.now() - timedelta(minutes=minutes_ago)
    if contact is None:
        contact = factories.ContactFactory(project=project, name=name, last_inbound_at=when)
    else:
        contact.last_inbound_at = when
        contact.save(update_fields=["last_inbound_at"])
    factories.MessageFactory(
        project=project,
        contact=contact,
        phone_number=contact.phone_number,
        direction="in",
        status="received",
        source="customer",
        text=text,
        created_at=when,
    )
    return contact


def test_the_list_shows_unread_counts_and_the_last_message_per_member(
    marketer_client, marketer, project
):
    # Given Budi wrote twice, and Sari once and was answered
    budi = customer_wrote(project, name="Budi", text="first")
    customer_wrote(project, contact=budi, text="Is my order shipped?")
    sari = customer_wrote(project, name="Sari", text="halo")
    factories.MessageFactory(
        project=project, contact=sari, direction="out", status="sent", text="Halo Sari!"
    )
    # When the marketer looks at the list
    page = marketer_client.get(reverse("callbacks:chat")).content.decode()
    # Then each row shows its unread count and its newest message
    rows = {row.pk: row for row in selectors.chat_conversation_list(project=project, user=marketer)}
    assert (rows[budi.pk].unread, rows[sari.pk].unread) == (2, 1)
    assert rows[budi.pk].last_message.text == "Is my order shipped?"
    assert "Is my order shipped?" in page and "You: Halo Sari!" in page
    assert "2 unread messages" in page
    # And once Budi's thread is opened, his messages are read (for this member only)
    marketer_client.get(reverse("callbacks:chat_conversation", args=[budi.pk]))
    rows = {row.pk: row for row in selectors.chat_conversation_list(project=project, user=marketer)}
    assert (rows[budi.pk].unread, rows[sari.pk].unread) == (0, 1)
    other = factories.UserFactory()
    factories.MembershipFactory(project=project, user=other)
    rows = {row.pk: row for row in selectors.chat_conversation_list(project=project, user=other)}
    assert rows[budi.pk].unread == 2


def test_the_list_filters_mine_unassigned_and_with_a_person(marketer_client, marketer, project):
    mine = customer_wrote(project, name="Mine Mira")
    theirs = customer_wrote(project, name="Theirs Tono")
    free = customer_wrote(project, name="Free Fitri")
    waiting = customer_wrote(project, name="Waiting Wati")
    waiting.handed_over_at = timezone.now()
    waiting.save(update_fields=["handed_over_at"])
    colleague = factories.UserFactory()
    factories.MembershipFactory(project=project, user=colleague)
    services.chat_assign(contact=mine, assignee=marketer, actor=marketer)
    services.chat_assign(contact=theirs, assignee=colleague, actor=marketer)

    def names(view):
        page = marketer_client.get(
            reverse("callbacks:chat_conversations"), {"view": view}
        ).content.decode()
        return {c.name for c in (mine, theirs, free, waiting) if c.name in page}

    assert names("mine") == {"Mine Mira"}
    assert names("unassigned") == {"Free Fitri", "Waiting Wati"}
    assert names("with_person") == {"Waiting Wati"}
    assert names("all") == names("nonsense") == {c.name for c in (mine, theirs, free, waiting)}


def test_the_list_poll_answers_204_until_something_it_shows_changes(
    marketer_client, marketer, project, django_assert_max_num_queries
):
    budi = customer_wrote(project, name="Budi", text="hello")
    url = reverse("callbacks:chat_conversations")
    version = marketer_client.get(url).context["list_version"]
    with django_assert_max_num_queries(10):
        assert marketer_client.get(url, {"v": version}).status_code == 204
    # A new message, an assignment, reading a thread: each redraws the list
    customer_wrote(project, contact=budi, text="again")
    response = marketer_client.get(url, {"v": version})
    assert response.status_code == 200 and "again" in response.content.decode()
    version = response.context["list_version"]
    services.chat_assign(contact=budi, assignee=marketer, actor=marketer)
    response = marketer_client.get(url, {"v": version})
    assert response.status_code == 200
    version = response.context["list_version"]
    marketer_client.get(reverse("callbacks:chat_thread", args=[budi.pk]))
    response = marketer_client.get(url, {"v": version})
    assert response.status_code == 200 and response.context["conversations"][0].unread == 0


def test_assigning_a_conversation_is_audited_and_shown(marketer_client, marketer, project):
    contact = customer_wrote(project, name="Budi")
    colleague = factories.UserFactory(username="rina")
    factories.MembershipFactory(project=project, user=colleague, role="admin")

    response = marketer_client.post(
        reverse("callbacks:chat_assign", args=[contact.pk]), {"assignee": colleague.pk}, follow=True
    )

    assert Conversation.objects.get(contact=contact).assigned_to == colleague
    assert "is assigned to rina" in response.content.decode()
    event = AuditEvent.objects.get(action="chat.assign")
    assert (event.project, event.actor, event.data["to"], event.data["from"]) == (
        project,
        marketer,
        "rina",
        None,
    )
    # And unassigning is audited too
    marketer_client.post(reverse("callbacks:chat_assign", args=[contact.pk]), {"assignee": ""})
    assert Conversation.objects.get(contact=contact).assigned_to is None
    assert AuditEvent.objects.filter(action="chat.assign").latest("id").data == {
        "contact_id": contact.pk,
        "from": "rina",
        "to": None,
    }


def test_a_conversation_goes_only_to_a_member_who_may_chat(marketer_client, marketer, project):
    contact = customer_wrote(project)
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    stranger = factories.UserFactory()

    for user in (developer, stranger):
        response = marketer_client.post(
            reverse("callbacks:chat_assign", args=[contact.pk]), {"assignee": user.pk}, follow=True
        )
        assert "Choose a member of this project who may chat." in response.content.decode()
        with pytest.raises(ValidationFailed):
            services.chat_assign(contact=contact, assignee=user, actor=marketer)
    # Nor may a developer assign one (the service checks the actor too, not only the page)
    with pytest.raises(PermissionDenied):
        services.chat_assign(contact=contact, assignee=marketer, actor=developer)
    assert not Conversation.objects.exists()
    assert not AuditEvent.objects.filter(action="chat.assign").exists()
    # And another project's conversation cannot be assigned
    elsewhere = customer_wrote(factories.ProjectFactory())
    assert (
        marketer_client.post(
            reverse("callbacks:chat_assign", args=[elsewhere.pk]), {"assignee": marketer.pk}
        ).status_code
        == 404
    )


def test_the_thread_poll_answers_204_until_something_changes(
    marketer_client, project, django_assert_max_num_queries
):
    contact = customer_wrote(project, text="hello")
    url = reverse("callbacks:chat_thread", args=[contact.pk])
    first = marketer_client.get(url)
    assert first.status_code == 200 and "hello" in first.content.decode()
    version = first.context["version"]
    # When nothing changed, the poll is a cheap 204 (htmx keeps the page as it is): the session,
    # user, project and role every page reads, the contact, one aggregate, and the session's
    # save (SESSION_SAVE_EVERY_REQUEST: an UPDATE in a savepoint)
    with django_assert_max_num_queries(9):
        assert marketer_client.get(url, {"v": version}).status_code == 204
    # When the customer writes again, the poll brings the new bubble
    customer_wrote(project, contact=contact, text="are you there?")
    again = marketer_client.get(url, {"v": version})
    assert again.status_code == 200 and "are you there?" in again.content.decode()
    assert 'hx-trigger="every 2s"' in again.content.decode()
    # And a status change of our reply counts as a change too
    reply = factories.MessageFactory(
        project=project, contact=contact, direction="out", status="sent", text="yes"
    )
    version = marketer_client.get(url).context["version"]
    Message.objects.filter(pk=reply.pk).update(
        status="read", updated_at=timezone.now() + timedelta(seconds=1)
    )
    assert "badge-read" in marketer_client.get(url, {"v": version}).content.decode()


def test_the_window_counts_down_and_a_closed_one_offers_a_template(marketer_client, project):
    # Given an approved template with a quick reply and a URL button
    template = factories.TemplateFactory(project=project, name="order_update")
    factories.TemplateLanguageFactory(
        template=template,
        body="Halo {{1}}, pesanan {{2}} sudah dikirim.",
        buttons=[
            {"type": "quick_reply", "text": "Thanks", "payload": "thanks"},
            {"type": "url", "text": "Track", "url": "https://shop.example/track/{{1}}"},
        ],
    )
    recent = customer_wrote(project, name="Recent", minutes_ago=60 * 3 + 5)
    old = customer_wrote(project, name="Old", minutes_ago=60 * 25)
    # The open window shows its countdown and the reply box
    page = marketer_client.get(
        reverse("callbacks:chat_conversation", args=[recent.pk])
    ).content.decode()
    assert "20 h 55 min left to answer freely" in page or "20 h 54 min left" in page
    assert 'name="text"' in page and "Send a template" not in page
    # The closed one has no text box: the template picker instead
    url = reverse("callbacks:chat_conversation", args=[old.pk])
    page = marketer_client.get(url).content.decode()
    assert "24-hour window closed" in page and 'name="text"' not in page
    assert "Send a template" in page and 'id="template-pick"' in page
    # Picking the template brings its fields and its preview, buttons drawn
    page = marketer_client.get(url, {"template": "order_update"}).content.decode()
    assert 'name="param_1"' in page and 'name="param_2"' in page
    assert "recipient_number" not in page
    assert "Thanks" in page and "Track" in page
    # The preview follows the values typed
    preview = marketer_client.get(
        reverse("callbacks:chat_template_preview", args=[old.pk]),
        {"template": "order_update", "param_1": "Budi", "param_2": "A-17", "button_url": "A17"},
    ).content.decode()
    assert "Halo Budi, pesanan A-17 sudah dikirim." in preview
    assert "https://shop.example/track/A17" in preview


def test_a_template_sent_from_the_chat_goes_to_the_contact(marketer_client, marketer, project):
    factories.IntegrationFactory(project=project, kind="chatbot")
    template = factories.TemplateFactory(project=project, name="order_update")
    factories.TemplateLanguageFactory(template=template, body="Halo {{1}}!")
    old = customer_wrote(project, name="Old", minutes_ago=60 * 25)
    url = reverse("callbacks:chat_conversation", args=[old.pk])

    # A missing value is refused on its field, nothing sent
    page = marketer_client.post(
        url, {"action": "template", "template": "order_update", "language": "id", "param_1": ""}
    ).content.decode()
    assert "This field is required." in page
    assert not Message.objects.filter(direction="out").exists()

    response = marketer_client.post(
        url,
        {"action": "template", "template": "order_update", "language": "id", "param_1": "Budi"},
        follow=True,
    )

    sent = Message.objects.get(direction="out")
    assert (sent.contact, sent.template_name, sent.params, sent.sent_by) == (
        old,
        "order_update",
        {"1": "Budi"},
        marketer,
    )
    assert "Reply queued." in response.content.decode()


def test_a_sent_templates_buttons_are_drawn_in_its_bubble_and_long_text_wraps(
    marketer_client, project
):
    template = factories.TemplateFactory(project=project, name="promo")
    factories.TemplateLanguageFactory(
        template=template,
        body="Promo {{1}}",
        buttons=[
            {"type": "quick_reply", "text": "Stop promos", "payload": "stop"},
            {"type": "url", "text": "Shop now", "url": "https://shop.example/{{1}}"},
        ],
    )
    contact = customer_wrote(project, text="x" * 4096)
    factories.MessageFactory(
        project=project,
        contact=contact,
        direction="out",
        kind="hsm",
        status="read",
        template=template,
        template_name="promo",
        language_code="id",
        params={"1": "20%"},
        button_url="june",
    )
    page = marketer_client.get(reverse("callbacks:chat_thread", args=[contact.pk])).content.decode()
    assert "Promo 20%" in page
    assert '<a href="https://shop.example/june"' in page and "Shop now" in page
    assert "Stop promos" in page
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "chat.css").read_text()
    assert "overflow-wrap: anywhere" in css


def test_a_window_that_closes_while_the_page_is_open_swaps_the_composer(marketer_client, project):
    contact = customer_wrote(project, minutes_ago=60 * 23)
    url = reverse("callbacks:chat_thread", args=[contact.pk])
    version = marketer_client.get(url).context["version"]
    # When the window closes (the customer's message is now 25 h old)
    contact.last_inbound_at = timezone.now() - timedelta(hours=25)
    contact.save(update_fields=["last_inbound_at"])
    page = marketer_client.get(url, {"v": version}).content.decode()
    # Then the composer comes out of band: a template, no text box
    assert 'id="chat-composer" hx-swap-oob="true"' in page
    assert "Send a template" in page and 'name="text"' not in page


def test_the_live_fragments_need_a_chat_role(client, project):
    contact = customer_wrote(project)
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    client.force_login(developer)
    for url in (
        reverse("callbacks:chat_conversations"),
        reverse("callbacks:chat_thread", args=[contact.pk]),
        reverse("callbacks:chat_template_preview", args=[contact.pk]),
    ):
        assert client.get(url).status_code == 403


def test_the_read_marker_never_moves_back(marketer, project):
    contact = customer_wrote(project)
    services.chat_mark_read(contact=contact, user=marketer, up_to_message_id=50)
    services.chat_mark_read(contact=contact, user=marketer, up_to_message_id=10)
    services.chat_mark_read(contact=contact, user=marketer, up_to_message_id=0)
    assert ConversationRead.objects.get(contact=contact, user=marketer).last_read_message_id == 50
