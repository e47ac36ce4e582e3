"""The chat panel: conversations, the bubbles, a reply by hand, handing back to the chatbot."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from messaging.models import Message
from messaging.sending import services as messaging_services
from tests import factories

pytestmark = pytest.mark.django_db


def conversation(project, *, name, text, minutes_ago=1, handed_over=False):
    when = timezone.now() - timedelta(minutes=minutes_ago)
    contact = factories.ContactFactory(
        project=project,
        name=name,
        last_inbound_at=when,
        handed_over_at=when if handed_over else None,
    )
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


def test_conversations_list_puts_those_waiting_for_a_person_first(marketer_client, project):
    conversation(project, name="Recent Rina", text="hi", minutes_ago=1)
    conversation(project, name="Waiting Wati", text="halo wappin", minutes_ago=30, handed_over=True)
    factories.ContactFactory(project=project, name="Never Wrote")
    conversation(factories.ProjectFactory(), name="Other Project", text="hi")

    page = marketer_client.get(reverse("callbacks:chat")).content.decode()

    assert page.index("Waiting Wati") < page.index("Recent Rina")
    assert "With a person" in page
    assert "Never Wrote" not in page
    assert "Other Project" not in page


def test_a_conversation_shows_the_bubbles_both_ways(marketer_client, project):
    contact = conversation(project, name="Budi", text="Is my order shipped?")
    factories.MessageFactory(
        project=project,
        contact=contact,
        phone_number=contact.phone_number,
        direction="out",
        status="read",
        source="chatbot",
        text="Yes, it left this morning.",
    )

    page = marketer_client.get(
        reverse("callbacks:chat_conversation", args=[contact.pk])
    ).content.decode()

    assert 'class="wa-bubble"' in page and "Is my order shipped?" in page
    assert 'class="wa-bubble out"' in page and "Yes, it left this morning." in page
    assert "badge-read" in page


def test_hand_back_gives_the_conversation_to_the_chatbot_again(marketer_client, project):
    contact = conversation(project, name="Wati", text="halo wappin", handed_over=True)

    response = marketer_client.post(
        reverse("callbacks:chat_hand_back", args=[contact.pk]), follow=True
    )

    contact.refresh_from_db()
    assert contact.handed_over_at is None
    assert "is back with the chatbot" in response.content.decode()


def test_another_projects_conversation_is_not_found(marketer_client):
    stranger = conversation(factories.ProjectFactory(), name="Elsewhere", text="hi")

    assert (
        marketer_client.get(reverse("callbacks:chat_conversation", args=[stranger.pk])).status_code
        == 404
    )
    assert (
        marketer_client.post(reverse("callbacks:chat_hand_back", args=[stranger.pk])).status_code
        == 404
    )


def test_developers_do_not_use_the_chat_panel(client, project):
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    client.force_login(developer)

    response = client.get(reverse("callbacks:chat"))
    assert response.status_code == 403
    assert "only admin, marketing and viewer members may." in response.content.decode()


def test_the_chat_panel_needs_a_login(client):
    response = client.get(reverse("callbacks:chat"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.skipif(
    not hasattr(messaging_services, "message_send_text"), reason="needs the messaging services"
)
def test_a_reply_by_hand_is_queued_as_the_users_message(marketer_client, marketer, project):
    factories.IntegrationFactory(project=project, kind="chatbot")
    contact = conversation(project, name="Budi", text="Is my order shipped?")

    response = marketer_client.post(
        reverse("callbacks:chat_conversation", args=[contact.pk]),
        {"text": "Yes, this morning."},
        follow=True,
    )

    assert "Reply queued." in response.content.decode()
    reply = Message.objects.get(direction="out")
    assert (reply.text, reply.source, reply.sent_by, reply.contact) == (
        "Yes, this morning.",
        "user",
        marketer,
        contact,
    )


@pytest.mark.skipif(
    not hasattr(messaging_services, "message_send_text"), reason="needs the messaging services"
)
def test_a_reply_outside_the_window_is_refused_with_the_reason(marketer_client, project):
    factories.IntegrationFactory(project=project, kind="chatbot")
    contact = conversation(project, name="Old", text="hi", minutes_ago=60 * 25)

    page = marketer_client.post(
        reverse("callbacks:chat_conversation", args=[contact.pk]), {"text": "Sorry for the delay"}
    ).content.decode()

    assert "24 hours" in page
    assert not Message.objects.filter(direction="out").exists()
