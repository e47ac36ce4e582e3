"""The send accept path reads each row it needs once (found by `make bench`, benchmark 5)."""

from __future__ import annotations

from django.utils import timezone

import pytest

from messaging.models import Message
from messaging.sending import services
from projects.models import Integration
from projects.webhooks.services import webhook_subscriptions_get
from tests import factories


@pytest.mark.django_db
def test_text_send_is_accepted_in_six_queries(project, django_assert_max_num_queries):
    # Given a project with only a notification integration (the text send falls back to it)
    factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    factories.ContactFactory(
        project=project, phone_number="6281234567890", last_inbound_at=timezone.now()
    )
    # and its webhook subscriptions (none) in the cache, as after its first event
    webhook_subscriptions_get(project_ids=[project.pk])
    # When a text is accepted: the integration (both kinds at once), then in one transaction
    # the contact (read once, for the row and the 24-hour window) and the two inserts
    with django_assert_max_num_queries(6):
        message = services.message_send_text(
            project=project, phone_number="081234567890", text="Halo", source=Message.Source.USER
        )
    # Then it is queued for that contact
    assert message.status == Message.Status.QUEUED
    assert message.contact.phone_number == "6281234567890"


@pytest.mark.django_db
def test_text_send_outside_the_window_leaves_no_contact_behind(project):
    from wappin_portal.errors import Conflict

    factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)
    with pytest.raises(Conflict) as refused:
        services.message_send_text(
            project=project, phone_number="081299998888", text="Halo", source=Message.Source.USER
        )
    assert refused.value.code == "outside_24h_window"
    assert not project.contacts.filter(phone_number="6281299998888").exists()
