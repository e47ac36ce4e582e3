"""Inquiry timelines and the callbacks Wappin POSTs to the project's callback URL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.helpers import (
    CLIENT_ID,
    GOOD_NUMBER,
    OTHER_CLIENT_ID,
    OTHER_SECRET_KEY,
    PROJECT_ID,
    UNDELIVERABLE_NUMBER,
    Sandbox,
    wait_for,
)

INQUIRY = "/v1/message/inquiry"
STATUS_FIELDS = {
    "message_id",
    "client_id",
    "client_name",
    "project id",
    "project_name",
    "sender_number",
    "status_messages",
    "message_content",
    "environment",
    "timestamp",
    "callback_type",
}
MESSAGE_FIELDS = (STATUS_FIELDS - {"project id"}) | {"project_id"}


def send_text(sandbox: Sandbox, token: str, number: str = GOOD_NUMBER) -> str:
    answer = sandbox.post_json(
        "/v1/message/do-send",
        {
            "client_id": CLIENT_ID,
            "project_id": PROJECT_ID,
            "message_content": "hi",
            "recipient_number": number,
        },
        token=token,
    )
    assert answer.status == "200", answer.json
    return answer.json["message_id"]


def inquiry(sandbox: Sandbox, token: str, message_id: str) -> Any:
    return sandbox.post_json(INQUIRY, {"message_id": message_id}, token=token)


def test_inquiry_timeline_grows_to_sent_delivered_read(sandbox: Sandbox, token: str) -> None:
    message_id = send_text(sandbox, token)

    answer = wait_for(
        lambda: (
            (a := inquiry(sandbox, token, message_id)).json["data"]
            and len(a.json["data"]) == 3
            and a
        )
    )

    assert (answer.status, answer.message, answer.json["message_id"]) == (
        "200",
        "Success",
        message_id,
    )
    assert [step["status"] for step in answer.json["data"]] == ["sent", "delivered", "read"]
    timestamps = [int(step["timestamp"]) for step in answer.json["data"]]
    assert all(isinstance(step["timestamp"], str) for step in answer.json["data"])
    assert timestamps == sorted(timestamps)


def test_inquiry_right_after_sending_is_an_empty_timeline(sandbox: Sandbox, token: str) -> None:
    sandbox.knobs(callback_delay_ms=5000)
    message_id = send_text(sandbox, token)

    answer = inquiry(sandbox, token, message_id)

    assert (answer.status, answer.json["data"]) == ("200", [])


def test_inquiry_of_an_unknown_or_foreign_message_is_404(sandbox: Sandbox, token: str) -> None:
    message_id = send_text(sandbox, token)
    other_token = sandbox.token(OTHER_CLIENT_ID, OTHER_SECRET_KEY)

    for asker, asked in ((token, "5c33139c82f94"), (other_token, message_id)):
        answer = inquiry(sandbox, asker, asked)
        assert (answer.status, answer.message) == ("404", "Data not Found")


def test_inquiry_auth_errors(sandbox: Sandbox, token: str) -> None:
    assert inquiry(sandbox, "", "x").status == "406"
    assert inquiry(sandbox, "a" * 64, "x").status == "401"
    assert sandbox.post_json(INQUIRY, {}, token=token).message == "Error no input received"
    sandbox.admin("PATCH", "world", {"clients": {CLIENT_ID: {"ip_whitelist": ["10.0.0.1"]}}})
    assert inquiry(sandbox, token, "x").status == "407"


def test_status_callbacks_arrive_in_order_with_the_documents_fields(
    sandbox: Sandbox, token: str
) -> None:
    message_id = send_text(sandbox, token)

    bodies = wait_for(lambda: len(b := sandbox.receiver.bodies(message_id)) == 3 and b)

    assert [body["status_messages"] for body in bodies] == ["sent", "delivered", "read"]
    for body in bodies:
        assert set(body) == STATUS_FIELDS
        assert body["project id"] == PROJECT_ID
        assert body["client_id"] == CLIENT_ID
        assert body["client_name"] == "wappin-info"
        assert body["project_name"] == "WAPPIN-INFO"
        assert body["sender_number"] == GOOD_NUMBER
        assert body["message_content"] == "-"
        assert body["environment"] == "PRODUCTION"
        assert body["callback_type"] == "status"
        assert body["timestamp"].isdigit()
    request = sandbox.receiver.received[0]
    assert request["headers"]["Authorization"] == f"Bearer {token}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["path"] == "/callbacks/wappin/"


def test_undeliverable_number_gets_sent_then_failed(sandbox: Sandbox, token: str) -> None:
    message_id = send_text(sandbox, token, UNDELIVERABLE_NUMBER)

    bodies = wait_for(lambda: len(b := sandbox.receiver.bodies(message_id)) == 2 and b)

    assert [body["status_messages"] for body in bodies] == ["sent", "failed"]
    steps = wait_for(lambda: len(d := inquiry(sandbox, token, message_id).json["data"]) == 2 and d)
    assert [step["status"] for step in steps] == ["sent", "failed"]


def test_customer_message_sends_a_message_callback_with_a_new_id(
    sandbox: Sandbox, token: str
) -> None:
    sent = sandbox.admin(
        "POST",
        "customer-message",
        {"project_id": PROJECT_ID, "sender_number": "628989229471", "message_content": "tesss"},
    )

    [body] = wait_for(lambda: sandbox.receiver.bodies(sent["message_id"]))
    assert set(body) == MESSAGE_FIELDS
    assert body == sent
    assert body["callback_type"] == "message"
    assert body["status_messages"] == "-"
    assert body["message_content"] == "tesss"
    assert body["sender_number"] == "628989229471"
    assert body["project_id"] == PROJECT_ID
    assert len(body["message_id"]) == 13
    [stored] = sandbox.messages(message_id=sent["message_id"])
    assert stored["direction"] == "in"


def test_customer_message_for_an_unknown_project_is_refused(sandbox: Sandbox) -> None:
    answer = sandbox.request(
        "POST",
        "/_sandbox/customer-message",
        body=b'{"project_id": "nope", "sender_number": "1", "message_content": "x"}',
    )

    assert answer.http_status == 400


@pytest.mark.parametrize("answer", [b'{"status": "500"}', b"OK", b'{"status": 0}', b""])
def test_callbacks_are_retried_three_more_times_unless_the_answer_is_000(
    sandbox: Sandbox, token: str, answer: bytes
) -> None:
    sandbox.receiver.answer = answer
    sandbox.knobs(callback_delay_ms=2000)  # only the "sent" callback within this test
    sent = sandbox.admin(
        "POST",
        "customer-message",
        {"project_id": PROJECT_ID, "sender_number": GOOD_NUMBER, "message_content": "x"},
    )

    attempts = wait_for(
        lambda: len(c := sandbox.callbacks(message_id=sent["message_id"])) == 4 and c
    )

    assert [attempt["attempt"] for attempt in attempts] == [1, 2, 3, 4]
    assert not any(attempt["accepted"] for attempt in attempts)
    assert all(attempt["http_status"] == 200 for attempt in attempts)
    assert len(sandbox.receiver.bodies(sent["message_id"])) == 4
    # And no fifth attempt follows.
    sandbox.knobs(callback_delay_ms=20)
    send_text(sandbox, token)
    wait_for(lambda: len(sandbox.callbacks(status="read")) >= 1)
    assert len(sandbox.callbacks(message_id=sent["message_id"])) == 4


def test_an_answer_of_000_is_delivered_once(sandbox: Sandbox, token: str) -> None:
    message_id = send_text(sandbox, token)

    wait_for(lambda: len(sandbox.callbacks(message_id=message_id)) == 3)

    attempts = sandbox.callbacks(message_id=message_id)
    assert [(a["status"], a["attempt"], a["accepted"]) for a in attempts] == [
        ("sent", 1, True),
        ("delivered", 1, True),
        ("read", 1, True),
    ]
    assert attempts[0]["response_body"] == '{"status": "000"}'


def test_an_unreachable_callback_url_is_logged_and_retried(sandbox: Sandbox) -> None:
    sandbox.admin(
        "PATCH", "world", {"projects": {PROJECT_ID: {"callback_url": "http://127.0.0.1:9/nowhere"}}}
    )
    sent = sandbox.admin(
        "POST",
        "customer-message",
        {"project_id": PROJECT_ID, "sender_number": GOOD_NUMBER, "message_content": "x"},
    )

    attempts = wait_for(
        lambda: len(c := sandbox.callbacks(message_id=sent["message_id"])) == 4 and c
    )

    assert all(a["error"] and a["http_status"] is None for a in attempts)


def test_callbacks_disabled_still_moves_the_timeline(sandbox: Sandbox, token: str) -> None:
    sandbox.knobs(callbacks_enabled=False)
    message_id = send_text(sandbox, token)

    wait_for(lambda: len(inquiry(sandbox, token, message_id).json["data"]) == 3)

    assert sandbox.receiver.bodies(message_id) == []
    assert sandbox.callbacks(message_id=message_id) == []


def test_callbacks_carry_the_clients_current_token_even_before_any_token_get(
    sandbox: Sandbox,
) -> None:
    sent = sandbox.admin(
        "POST",
        "customer-message",
        {"project_id": PROJECT_ID, "sender_number": GOOD_NUMBER, "message_content": "x"},
    )
    wait_for(lambda: sandbox.receiver.bodies(sent["message_id"]))

    token_answer = sandbox.token_get()

    assert token_answer.message == "Token not expired"
    authorization = sandbox.receiver.received[0]["headers"]["Authorization"]
    assert authorization == f"Bearer {token_answer.json['data']['access_token']}"


def test_each_integration_can_have_its_own_callback_url(sandbox: Sandbox, token: str) -> None:
    base = sandbox.receiver.url
    sandbox.admin(
        "PATCH",
        "world",
        {
            "projects": {
                PROJECT_ID: {
                    "notification_callback_url": base + "notification",
                    "chatbot_callback_url": base + "chatbot",
                }
            }
        },
    )
    hsm = sandbox.post_json(
        "/v1/message/do-send-hsm",
        {
            "client_id": CLIENT_ID,
            "project_id": PROJECT_ID,
            "type": "opening_message1",
            "recipient_number": GOOD_NUMBER,
            "params": {"1": "x"},
        },
        token=token,
    ).json["message_id"]
    text = send_text(sandbox, token)
    customer = sandbox.admin(
        "POST",
        "customer-message",
        {"project_id": PROJECT_ID, "sender_number": GOOD_NUMBER, "message_content": "x"},
    )["message_id"]

    wait_for(lambda: len(sandbox.receiver.received) >= 7)

    paths = {r["body"]["message_id"]: r["path"] for r in sandbox.receiver.received}
    assert paths[hsm].endswith("/notification")
    assert paths[text].endswith("/chatbot")
    assert paths[customer].endswith("/chatbot")
