"""History reads: filters, the project boundary, the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

import pytest

from messaging.history.selectors import message_get, message_list
from messaging.models import Message, MessageStatusEvent
from tests import factories
from wappin_portal.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def _ids(queryset):
    return [message.pk for message in queryset]


def test_message_list_is_newest_first_and_only_of_the_project(project):
    older = factories.MessageFactory(
        project=project, created_at=timezone.now() - timedelta(hours=2)
    )
    newer = factories.MessageFactory(project=project)
    factories.MessageFactory()  # another project
    assert _ids(message_list(project=project, filters={})) == [newer.pk, older.pk]


def test_message_list_filters_by_status_direction_kind_source_and_template(project):
    hsm = factories.MessageFactory(
        project=project, kind="hsm", template_name="order_shipped", status="read", source="api_key"
    )
    inbound = factories.MessageFactory(
        project=project, direction="in", status="received", source="customer"
    )
    assert _ids(message_list(project=project, filters={"status": "read"})) == [hsm.pk]
    assert _ids(message_list(project=project, filters={"direction": "in"})) == [inbound.pk]
    assert _ids(message_list(project=project, filters={"kind": "hsm"})) == [hsm.pk]
    assert _ids(message_list(project=project, filters={"source": "api_key"})) == [hsm.pk]
    assert _ids(message_list(project=project, filters={"template": "order_shipped"})) == [hsm.pk]
    assert len(message_list(project=project, filters={"status": "", "kind": None})) == 2


def test_message_list_matches_a_number_however_it_is_written(project):
    sari = factories.MessageFactory(project=project, phone_number="6281234567890")
    factories.MessageFactory(project=project, phone_number="6281299998888")
    assert _ids(message_list(project=project, filters={"number": "0812-3456-7890"})) == [sari.pk]
    # A partial number matches as a substring.
    assert _ids(message_list(project=project, filters={"number": "34567"})) == [sari.pk]


def test_message_list_date_range_includes_the_whole_last_day(project):
    day = timezone.make_aware(datetime(2026, 3, 10, 23, 30))
    inside = factories.MessageFactory(project=project, created_at=day)
    factories.MessageFactory(project=project, created_at=day + timedelta(hours=1))
    factories.MessageFactory(project=project, created_at=day - timedelta(days=2))
    found = message_list(
        project=project, filters={"date_from": "2026-03-09", "date_to": "2026-03-10"}
    )
    assert _ids(found) == [inside.pk]


def test_message_list_refuses_a_date_that_is_not_one(project):
    with pytest.raises(ValidationFailed) as error:
        message_list(project=project, filters={"date_from": "last tuesday"})
    assert error.value.field == "date_from"


def test_message_get_gives_the_timeline_in_order(project):
    message = factories.MessageFactory(project=project)
    now = timezone.now()
    MessageStatusEvent.objects.create(
        message=message, status="sent", source="callback", occurred_at=now
    )
    MessageStatusEvent.objects.create(
        message=message, status="queued", source="portal", occurred_at=now - timedelta(seconds=5)
    )
    found = message_get(project=project, message_id=message.pk)
    assert [event.status for event in found.status_events.all()] == ["queued", "sent"]


def test_message_get_of_another_project_is_not_found(project):
    other = factories.MessageFactory()
    with pytest.raises(NotFound):
        message_get(project=project, message_id=other.pk)
    assert Message.objects.filter(pk=other.pk).exists()
