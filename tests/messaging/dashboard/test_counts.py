"""The dashboard's counts: kept exact by the database's triggers on every path, folded by the squash."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

import pytest

from messaging.dashboard.services import message_counts_squash
from messaging.dashboard.triggers import TRIGGERS, counts_triggers_install, counts_triggers_present
from messaging.models import Message, MessageDailyCount
from tests import factories
from wappin_portal.db import rows_update

pytestmark = pytest.mark.django_db


def counted(project) -> Counter:
    """What the counts table says, per (template, direction, status), zeros left out."""
    rows = (
        MessageDailyCount.objects.filter(project_id=project.pk)
        .values("template_id", "direction", "status")
        .annotate(total=Sum("count"))
    )
    return Counter(
        {(r["template_id"], r["direction"], r["status"]): r["total"] for r in rows if r["total"]}
    )


def truth(project) -> Counter:
    """The same figures counted from the messages themselves."""
    return Counter(
        Message.objects.filter(project=project).values_list("template_id", "direction", "status")
    )


def test_the_triggers_exist_after_migrate():
    assert counts_triggers_present(connection) == set(TRIGGERS)


def test_every_way_of_writing_messages_keeps_the_counts_exact(project):
    # Given messages written one by one, in bulk, in the past, with and without a template
    template = factories.TemplateFactory(project=project)
    one = factories.MessageFactory(project=project)
    factories.MessageFactory(project=project, template=template, kind=Message.Kind.HSM)
    Message.objects.bulk_create(
        Message(
            project=project,
            kind=Message.Kind.TEXT,
            phone_number=f"6281300000{n:03d}",
            created_at=timezone.now() - timedelta(days=n),
        )
        for n in range(20)
    )
    assert counted(project) == truth(project)

    # When they change status by save(), by QuerySet.update() and by the engine's bulk UPDATE
    one.status = Message.Status.SENT
    one.save()
    Message.objects.filter(
        project=project, created_at__lt=timezone.now() - timedelta(days=10)
    ).update(status=Message.Status.DELIVERED)
    batch = list(Message.objects.filter(project=project, status=Message.Status.QUEUED)[:5])
    for message in batch:
        message.status = Message.Status.READ
    rows_update(batch, ["status"])
    # ...an update that changes no status adds no delta
    rows_before = MessageDailyCount.objects.count()
    Message.objects.filter(project=project).update(send_attempts=1)
    assert MessageDailyCount.objects.count() == rows_before
    # ...their template is deleted (SET NULL) and some are deleted
    template.delete()
    Message.objects.filter(project=project, status=Message.Status.DELIVERED)[:1].get().delete()

    # Then the counts say what the messages say
    assert counted(project) == truth(project)


def test_the_squash_folds_deltas_into_one_row_per_key_without_changing_a_figure(project):
    other = factories.ProjectFactory()
    messages = [factories.MessageFactory(project=project) for _ in range(6)]
    factories.MessageFactory(project=other)
    for status in (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ):
        Message.objects.filter(pk__in=[m.pk for m in messages[:4]]).update(status=status)
    Message.objects.filter(pk=messages[5].pk).delete()
    before = counted(project), counted(other)
    assert MessageDailyCount.objects.filter(squashed=False).count() > 5

    removed = message_counts_squash()

    assert removed > 0
    assert (counted(project), counted(other)) == before
    # one row per key left, and the keys that sum to 0 (queued, sent, delivered) are gone
    rows = list(MessageDailyCount.objects.filter(project_id=project.pk))
    assert all(row.squashed and row.count for row in rows)
    assert sorted(row.status for row in rows) == ["queued", "read"]
    assert message_counts_squash() == 0


def test_the_squash_leaves_deltas_written_after_it_for_the_next_run(project):
    factories.MessageFactory(project=project)
    message_counts_squash()
    factories.MessageFactory(project=project, status=Message.Status.FAILED)
    assert MessageDailyCount.objects.filter(squashed=False).count() == 1
    assert counted(project) == truth(project)


def test_a_new_time_zone_remakes_the_triggers_and_recounts_in_its_days(project, settings):
    # Given a message at 02:00 UTC on 2 May: 09:00 in Jakarta, still 1 May in New York
    at = datetime(2026, 5, 2, 2, 0, tzinfo=UTC)
    factories.MessageFactory(project=project, created_at=at)
    assert list(MessageDailyCount.objects.values_list("day", flat=True)) == [date(2026, 5, 2)]

    # When the portal moves to New York's zone and migrate runs its post_migrate step
    settings.TIME_ZONE = "America/New_York"
    assert counts_triggers_present(connection) == set()
    assert sorted(counts_triggers_install(connection)) == sorted(TRIGGERS)

    # Then the message is counted on New York's day, once, and new ones follow the new zone
    assert list(MessageDailyCount.objects.values_list("day", "count")) == [(date(2026, 5, 1), 1)]
    factories.MessageFactory(project=project, created_at=at)
    assert counted(project) == truth(project)
    assert set(MessageDailyCount.objects.values_list("day", flat=True)) == {date(2026, 5, 1)}
