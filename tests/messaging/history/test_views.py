"""The history pages: filters, keyset paging, detail with timeline and payload, CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from django.utils import timezone

import pytest

from messaging.models import Message, MessageStatusEvent
from messaging.sending.services import message_status_record
from tests import factories

pytestmark = pytest.mark.django_db


def _rows(page: str) -> list[str]:
    """The message ids linked from the history table, in order."""
    return re.findall(r'href="/history/(\d+)/"', page)


def test_history_lists_messages_with_status_badges(marketer_client, project):
    factories.MessageFactory(
        project=project, kind="hsm", template_name="order_update", status="read"
    )
    factories.MessageFactory(project=project, status="failed", failure_code="601")
    page = marketer_client.get("/history/").content.decode()
    assert 'class="badge badge-read"' in page
    assert 'class="badge badge-failed"' in page
    assert "order_update" in page and "601" in page


def test_history_filters_by_status_direction_kind_template_and_number(marketer_client, project):
    read = factories.MessageFactory(
        project=project, status="read", kind="hsm", template_name="promo"
    )
    failed = factories.MessageFactory(
        project=project, status="failed", phone_number="6281234567001"
    )
    incoming = factories.MessageFactory(project=project, direction="in", status="received")
    ids = lambda **params: _rows(marketer_client.get("/history/", params).content.decode())  # noqa: E731
    assert ids(status="read") == [str(read.pk)]
    assert ids(direction="in") == [str(incoming.pk)]
    assert ids(kind="hsm") == [str(read.pk)]
    assert ids(template="promo") == [str(read.pk)]
    # A local number is normalised before it is compared.
    assert ids(number="0812-3456-7001") == [str(failed.pk)]


def test_history_filters_by_date_range(marketer_client, project):
    now = timezone.now()
    old = factories.MessageFactory(project=project, created_at=now - timedelta(days=10))
    recent = factories.MessageFactory(project=project, created_at=now)
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert _rows(marketer_client.get("/history/", {"date_from": since}).content.decode()) == [
        str(recent.pk)
    ]
    assert _rows(marketer_client.get("/history/", {"date_to": until}).content.decode()) == [
        str(old.pk)
    ]


def test_history_finds_a_partial_number_and_explains_a_bad_date_range(marketer_client, project):
    match = factories.MessageFactory(project=project, phone_number="6281234567001")
    factories.MessageFactory(project=project, phone_number="6281299990002")
    assert _rows(marketer_client.get("/history/", {"number": "0812345"}).content.decode()) == [
        str(match.pk)
    ]
    page = marketer_client.get(
        "/history/", {"date_from": "2026-03-10", "date_to": "2026-03-01"}
    ).content.decode()
    assert "The end date is before the start date." in page


def test_history_pages_older_and_newer_without_gaps_or_repeats(marketer_client, project):
    # Given 120 messages, some created in the same instant (ties broken by id)
    now = timezone.now()
    made = [
        factories.MessageFactory(project=project, created_at=now - timedelta(seconds=n // 3))
        for n in range(120)
    ]
    expected = [str(m.pk) for m in sorted(made, key=lambda m: (m.created_at, m.pk), reverse=True)]
    # When a user walks "Older" to the end
    seen, url, pages = [], "/history/", []
    while url:
        page = marketer_client.get(url).content.decode()
        pages.append(page)
        seen += _rows(page)
        match = re.search(r'href="\?([^"]*after=[^"]+)"', page)
        url = "/history/?" + match.group(1).replace("&amp;", "&") if match else ""
    # Then every message shows once, in order, over three pages
    assert seen == expected
    assert len(pages) == 3
    # And "Newer" from the last page gives back the second page
    newer = re.search(r'href="\?([^"]*before=[^"]+)"', pages[-1]).group(1).replace("&amp;", "&")
    assert _rows(marketer_client.get("/history/?" + newer).content.decode()) == expected[50:100]


def test_history_page_does_not_count_the_table(
    marketer_client, project, django_assert_max_num_queries
):
    factories.MessageFactory.create_batch(5, project=project)
    with django_assert_max_num_queries(12) as queries:
        marketer_client.get("/history/")
    assert not any(
        "COUNT(" in q["sql"].upper()
        for q in queries.captured_queries
        if "messaging_message" in q["sql"]
    )


def test_message_detail_shows_timeline_payload_and_sender(marketer_client, marketer, project):
    integration = factories.IntegrationFactory(project=project)
    message = factories.MessageFactory(
        project=project,
        integration=integration,
        kind="hsm",
        template_name="order_update",
        language_code="id",
        params={"1": "Budi", "2": "INV-42"},
        header_param="Promo",
        button_url="track/42",
        sent_by=marketer,
        wappin_message_id="wamid-123",
    )
    message_status_record(message_id=message.pk, status="sent", source="send_answer")
    message_status_record(message_id=message.pk, status="read", source="callback")
    message_status_record(message_id=message.pk, status="delivered", source="callback")
    page = marketer_client.get(f"/history/{message.pk}/").content.decode()
    assert "order_update" in page and "INV-42" in page and "Budi" in page
    assert "track/42" in page and "Promo" in page
    assert marketer.username in page and "wamid-123" in page
    assert 'class="timeline"' in page
    assert page.count("badge badge-") >= 4  # the status and three steps
    assert "arrived late" in page  # the late 'delivered' is shown but not applied
    # Nothing of the integration is shown.
    for secret in (integration.client_key, integration.secret_key, integration.callback_key):
        assert secret not in page


def test_message_detail_shows_failure_reason_with_wappin_code(marketer_client, project):
    message = factories.MessageFactory(project=project)
    message_status_record(
        message_id=message.pk,
        status="failed",
        source="send_answer",
        detail="The number is not on WhatsApp.",
        failure_code="601",
    )
    page = marketer_client.get(f"/history/{message.pk}/").content.decode()
    assert "Wappin code 601" in page and "The number is not on WhatsApp." in page


def test_messages_of_another_project_are_never_visible(marketer_client, project):
    other = factories.MessageFactory(phone_number="6281277778888")
    assert marketer_client.get(f"/history/{other.pk}/").status_code == 404
    assert marketer_client.post(f"/history/{other.pk}/refresh/").status_code == 404
    assert "6281277778888" not in marketer_client.get("/history/").content.decode()
    export = b"".join(marketer_client.get("/history/export.csv").streaming_content).decode()
    assert "6281277778888" not in export


def test_history_export_streams_the_filtered_list(marketer_client, marketer, project):
    factories.MessageFactory(
        project=project,
        status="read",
        kind="hsm",
        template_name="promo",
        params={"1": "Budi"},
        sent_by=marketer,
        phone_number="6281234567001",
    )
    factories.MessageFactory(
        project=project,
        status="failed",
        phone_number="6281234567002",
        failure_reason="=cmd|' /C calc'!A0",
    )
    response = marketer_client.get("/history/export.csv", {"status": "read"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["phone_number"] == "6281234567001"
    assert rows[0]["template_name"] == "promo" and rows[0]["params"] == "{{1}}=Budi"
    assert rows[0]["sent_by"] == marketer.username
    everything = b"".join(marketer_client.get("/history/export.csv").streaming_content).decode()
    assert "'=cmd" in everything  # a formula is defused for spreadsheets


def test_a_developer_sees_history_without_the_send_button(client, project):
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    factories.MessageFactory(project=project, template_name="promo", kind="hsm")
    client.force_login(developer)
    page = client.get("/history/").content.decode()
    assert "promo" in page and "Send a test message" not in page
    assert client.get("/history/test-send/").status_code == 403


def test_statuses_recorded_show_in_timeline_in_order(marketer_client, project):
    message = factories.MessageFactory(project=project)
    start = timezone.now()
    for offset, status in enumerate(("sent", "delivered", "read")):
        MessageStatusEvent.objects.create(
            message=message,
            status=status,
            source="callback",
            occurred_at=start + timedelta(seconds=offset),
        )
    Message.objects.filter(pk=message.pk).update(status="read")
    page = marketer_client.get(f"/history/{message.pk}/").content.decode()
    timeline = page[page.index('class="timeline"') :]
    assert (
        timeline.index("Sent</span>")
        < timeline.index("Delivered</span>")
        < timeline.index("Read</span>")
    )


def test_history_explains_a_date_off_the_calendar_and_still_lists(marketer_client, project):
    message = factories.MessageFactory(project=project)

    response = marketer_client.get(
        "/history/", {"date_from": "2024-13-45", "date_to": "9999-12-31"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid date." in page
    assert "is out of range: use a year from 1900 to 2999." in page
    assert _rows(page) == [str(message.pk)]


def test_history_ignores_a_cursor_or_blast_id_no_database_can_compare(marketer_client, project):
    import base64

    def cursor(raw: str) -> str:
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    message = factories.MessageFactory(project=project)
    for query in (
        {"after": cursor("0001-01-01T00:00:00+07:00|1")},
        {"before": cursor("9999-12-31T23:59:59-07:00|1")},
        {"after": cursor("2026-01-01T00:00:00+00:00|99999999999999999999999")},
    ):
        response = marketer_client.get("/history/", query)
        assert response.status_code == 200
        assert _rows(response.content.decode()) == [str(message.pk)]
    response = marketer_client.get("/history/", {"blast": "99999999999999999999999"})
    assert response.status_code == 200
    assert _rows(response.content.decode()) == []
