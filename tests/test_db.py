"""`rows_update`: many rows, each with its own values, in one UPDATE (PostgreSQL and SQLite)."""

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from messaging.models import Message
from tests import factories
from wappin_portal.db import rows_update

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_of_every_type_in_one_statement():
    # Given three messages, and the values each should get (text, timestamps, NULLs, an FK)
    project = factories.ProjectFactory()
    contact = factories.ContactFactory(project=project)
    messages = [
        factories.MessageFactory(project=project, status=Message.Status.SENT) for _ in range(3)
    ]
    read_at = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
    messages[0].status, messages[0].read_at, messages[0].contact = "read", read_at, contact
    messages[1].status, messages[1].failure_reason = "failed", 'It\'s "quoted"; DROP TABLE x'
    messages[2].contact = None

    # When they are written with one call
    with CaptureQueriesContext(connection) as queries:
        rows_update(messages, ["status", "read_at", "failure_reason", "contact"])

    # Then one UPDATE wrote each row's own values, and nothing else
    assert len(queries.captured_queries) == 1
    first, second, third = (Message.objects.get(pk=m.pk) for m in messages)
    assert (first.status, first.read_at, first.contact_id) == ("read", read_at, contact.pk)
    assert (second.status, second.failure_reason) == ("failed", 'It\'s "quoted"; DROP TABLE x')
    assert second.read_at is None
    assert (third.status, third.contact_id) == ("sent", None)


def test_batches_of_the_given_size_and_nothing_for_no_rows():
    messages = [factories.MessageFactory(status=Message.Status.SENT) for _ in range(5)]
    for message in messages:
        message.status = Message.Status.DELIVERED
    with CaptureQueriesContext(connection) as queries:
        rows_update([], ["status"])
        rows_update(messages, ["status"], batch_size=2)
    assert len(queries.captured_queries) == 3
    assert set(Message.objects.values_list("status", flat=True)) == {"delivered"}
