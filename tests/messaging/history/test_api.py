"""The history endpoints: the message list (cursor pages, filters), one message, a status refresh."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from messaging.models import MessageStatusEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_message_list_pages_with_a_cursor_newest_first(api_client, project):
    now = timezone.now()
    messages = [
        factories.MessageFactory(project=project, created_at=now - timedelta(minutes=n))
        for n in range(5)
    ]
    seen = []
    url = "/api/v1/messages/?page_size=2"
    while url:
        page = api_client.get(url).json()
        seen += [item["id"] for item in page["results"]]
        url = page["next"]
    assert seen == [message.pk for message in messages]


def test_message_list_filters_by_status_and_number(api_client, project):
    read = factories.MessageFactory(project=project, status="read", phone_number="6281234567890")
    factories.MessageFactory(project=project, status="failed", phone_number="6281234567890")
    factories.MessageFactory(project=project, status="read", phone_number="6281299998888")
    page = api_client.get(
        "/api/v1/messages/", {"status": "read", "number": "0812 3456 7890"}
    ).json()
    assert [item["id"] for item in page["results"]] == [read.pk]


def test_message_list_refuses_an_unknown_status(api_client):
    response = api_client.get("/api/v1/messages/", {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_message_detail_shows_the_timeline(api_client, project):
    message = factories.MessageFactory(
        project=project, status="delivered", wappin_message_id="5bc83037c79f5"
    )
    now = timezone.now()
    for offset, (status, source) in enumerate(
        [("queued", "portal"), ("sent", "send_answer"), ("delivered", "callback")]
    ):
        MessageStatusEvent.objects.create(
            message=message,
            status=status,
            source=source,
            occurred_at=now + timedelta(seconds=offset),
        )
    body = api_client.get(f"/api/v1/messages/{message.pk}/").json()
    assert body["wappin_message_id"] == "5bc83037c79f5"
    assert [(step["status"], step["source"]) for step in body["timeline"]] == [
        ("queued", "portal"),
        ("sent", "send_answer"),
        ("delivered", "callback"),
    ]


def test_another_projects_key_never_sees_the_message(api_client):
    other = factories.MessageFactory(text="secret of another project")
    for url in (f"/api/v1/messages/{other.pk}/", f"/api/v1/messages/{other.pk}/refresh-status/"):
        response = api_client.get(url) if url.endswith(f"{other.pk}/") else api_client.post(url)
        assert response.status_code == 404
        assert "secret" not in response.content.decode()
    assert api_client.get("/api/v1/messages/").json()["results"] == []


def test_refresh_status_of_a_message_wappin_never_accepted_is_a_conflict(api_client, project):
    message = factories.MessageFactory(project=project)
    response = api_client.post(f"/api/v1/messages/{message.pk}/refresh-status/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "message_not_accepted"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2024-13-45"}, "date_from"),
        ({"date_from": "2024-01-01T25:00"}, "date_from"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
    ],
)
def test_message_list_refuses_a_date_off_the_calendar_with_400_on_its_field(
    api_client, params, field
):
    response = api_client.get("/api/v1/messages/", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "date_invalid"
    assert list(error["fields"]) == [field]
    assert params[field] in error["message"]


def test_message_list_of_a_blast_id_past_64_bits_is_empty_not_an_error(api_client, project):
    factories.MessageFactory(project=project)

    response = api_client.get("/api/v1/messages/", {"blast": "99999999999999999999999"})

    assert response.status_code == 200
    assert response.json()["results"] == []
