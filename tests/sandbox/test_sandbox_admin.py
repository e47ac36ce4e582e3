"""The /_sandbox/ controls, the knobs, and HTTP/1.1 keep-alive."""

from __future__ import annotations

import http.client
import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from sandbox.world import (
    WorldError,
    deep_merge,
    knobs_validate,
    number_normalise,
    world_normalise,
)
from tests.sandbox.helpers import CLIENT_ID, GOOD_NUMBER, PROJECT_ID, Sandbox, wait_for

TEXT = "/v1/message/do-send"


def text_body() -> dict[str, str]:
    return {
        "client_id": CLIENT_ID,
        "project_id": PROJECT_ID,
        "message_content": "x",
        "recipient_number": GOOD_NUMBER,
    }


def test_world_get_shows_defaults_filled_in(sandbox: Sandbox) -> None:
    world = sandbox.admin("GET", "world")

    assert world["timezone"] == "Asia/Jakarta"
    assert world["environment"] == "PRODUCTION"
    assert world["clients"]["0099"]["ip_whitelist"] == []
    assert world["projects"]["900"]["callback_url"] == ""
    assert world["knobs"]["callback_delay_ms"] == 20
    assert world["knobs"]["error_5xx_rate"] == 0.0


def test_patch_adds_a_template_that_can_then_be_sent(sandbox: Sandbox, token: str) -> None:
    body = {**text_body(), "type": "new_one", "params": {"1": "a"}}
    del body["message_content"]
    assert sandbox.post_json("/v1/message/do-send-hsm", body, token=token).status == "404"

    sandbox.admin(
        "PATCH", "world", {"projects": {PROJECT_ID: {"templates": {"new_one": {"param_count": 1}}}}}
    )

    assert sandbox.post_json("/v1/message/do-send-hsm", body, token=token).status == "200"
    assert "opening_message1" in sandbox.admin("GET", "world")["projects"][PROJECT_ID]["templates"]


def test_patch_with_null_removes_a_key(sandbox: Sandbox) -> None:
    world = sandbox.admin(
        "PATCH", "world", {"projects": {PROJECT_ID: {"templates": {"old_promo": None}}}}
    )

    assert "old_promo" not in world["projects"][PROJECT_ID]["templates"]


def test_put_replaces_the_world_and_reset_restores_the_file(sandbox: Sandbox) -> None:
    sandbox.admin("PUT", "world", {"clients": {"1": {"secret_key": "s"}}, "projects": {}})

    assert sandbox.token_get().status == "401"
    assert sandbox.token_get("1", "s").status == "200"
    sandbox.admin("POST", "reset")
    assert sandbox.token_get().status == "200"


def test_an_invalid_world_is_refused_and_the_old_one_kept(sandbox: Sandbox) -> None:
    answer = sandbox.request(
        "PUT",
        "/_sandbox/world",
        body=json.dumps({"projects": {"1": {"client_id": "ghost"}}}).encode(),
    )

    assert answer.http_status == 400
    assert "ghost" in answer.json["error"]
    assert sandbox.token_get().status == "200"


def test_reset_forgets_messages_callbacks_and_tokens(sandbox: Sandbox, token: str) -> None:
    sandbox.post_json(TEXT, text_body(), token=token)
    wait_for(lambda: sandbox.callbacks())

    sandbox.admin("POST", "reset")

    assert sandbox.messages() == []
    assert sandbox.callbacks() == []
    assert sandbox.admin("GET", "tokens") == {}
    assert sandbox.post_json(TEXT, text_body(), token=token).status == "401"


def test_health_counts_the_jobs_still_on_their_way_until_a_reset(
    sandbox: Sandbox, token: str
) -> None:
    # Given a send whose status callbacks are scheduled a while apart
    sandbox.knobs(callback_delay_ms=5_000)
    sandbox.post_json(TEXT, text_body(), token=token)
    # Then health counts them
    assert sandbox.admin("GET", "health")["busy_jobs"] >= 1
    # And after a reset nothing is on its way any more
    sandbox.admin("POST", "reset")
    wait_for(lambda: sandbox.admin("GET", "health")["busy_jobs"] == 0)


def test_messages_filter_and_limit(sandbox: Sandbox, token: str) -> None:
    for _ in range(3):
        sandbox.post_json(TEXT, text_body(), token=token)

    assert len(sandbox.messages(endpoint="do-send")) == 3
    assert len(sandbox.messages(limit="2")) == 2
    assert sandbox.messages(endpoint="do-send-media") == []


def test_unknown_knob_is_refused(sandbox: Sandbox) -> None:
    answer = sandbox.request("POST", "/_sandbox/knobs", body=b'{"latency": 5}')

    assert answer.http_status == 400
    assert "latency_ms" in answer.json["error"]


def test_latency_knob_slows_every_api_answer(sandbox: Sandbox, token: str) -> None:
    sandbox.knobs(latency_ms=150)

    started = time.monotonic()
    answer = sandbox.post_json(TEXT, text_body(), token=token)

    assert answer.status == "200"
    assert time.monotonic() - started >= 0.15


def test_error_5xx_rate_answers_gateway_errors(sandbox: Sandbox, token: str) -> None:
    sandbox.knobs(error_5xx_rate=1.0)

    answers = [sandbox.post_json(TEXT, text_body(), token=token) for _ in range(5)]

    assert {a.http_status for a in answers} == {502}
    assert all(a.headers["Content-Type"] == "text/html" for a in answers)
    assert sandbox.messages() == []
    sandbox.knobs(error_5xx_rate=0.5, error_5xx_status=503)
    statuses = {sandbox.post_json(TEXT, text_body(), token=token).http_status for _ in range(60)}
    assert statuses == {200, 503}


def test_timeout_rate_sleeps_past_the_clients_timeout(sandbox: Sandbox, token: str) -> None:
    sandbox.knobs(timeout_rate=1.0, timeout_sleep_s=1.0)

    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        sandbox.post_json(TEXT, text_body(), token=token, timeout=0.2)

    sandbox.knobs(timeout_rate=0.0)
    assert sandbox.messages() == []


def test_template_request_goes_on_process_then_approved(sandbox: Sandbox, token: str) -> None:
    body = {
        "client_id": CLIENT_ID,
        "project_id": PROJECT_ID,
        "type": "promo_x",
        "recipient_number": GOOD_NUMBER,
        "params": {},
    }
    requested = sandbox.admin(
        "POST", "template-request", {"project_id": PROJECT_ID, "name": "promo_x"}
    )

    assert requested["approval"] == "on_process"
    assert sandbox.post_json("/v1/message/do-send-hsm", body, token=token).status == "404"
    wait_for(
        lambda: sandbox.post_json("/v1/message/do-send-hsm", body, token=token).status == "200"
    )
    assert (
        sandbox.admin("GET", "world")["projects"][PROJECT_ID]["templates"]["promo_x"]["approval"]
        == "approved"
    )


def test_template_request_can_be_rejected(sandbox: Sandbox) -> None:
    sandbox.admin(
        "POST", "template-request", {"project_id": PROJECT_ID, "name": "bad", "outcome": "rejected"}
    )

    template = wait_for(
        lambda: (
            (t := sandbox.admin("GET", "world")["projects"][PROJECT_ID]["templates"]["bad"])[
                "approval"
            ]
            == "rejected"
            and t
        )
    )

    assert template["active"] is False


def test_html_page_has_the_customer_form_and_recent_messages(sandbox: Sandbox, token: str) -> None:
    message_id = sandbox.post_json(TEXT, text_body(), token=token).json["message_id"]

    page = sandbox.request("GET", "/_sandbox/")

    assert page.http_status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.raw.decode()
    assert '<form method="post" action="/_sandbox/customer-message">' in html
    assert message_id in html
    assert "http://" not in html.split("<body>")[0]  # no CDN


def test_html_form_post_simulates_a_customer(sandbox: Sandbox) -> None:
    parts = urlsplit(sandbox.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request(
        "POST",
        "/_sandbox/customer-message",
        body="project_id=476&sender_number=628111222333&message_content=halo+wappin",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = conn.getresponse()
    answer.read()

    assert answer.status == 303
    assert answer.getheader("Location") == "/_sandbox/"
    [body] = wait_for(
        lambda: [b for b in sandbox.receiver.bodies() if b["sender_number"] == "628111222333"]
    )
    assert body["message_content"] == "halo wappin"


def test_one_keep_alive_connection_serves_many_requests(sandbox: Sandbox, token: str) -> None:
    parts = urlsplit(sandbox.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ports = set()
    for _ in range(20):
        conn.request("POST", TEXT, body=json.dumps(text_body()), headers=headers)
        answer = conn.getresponse()
        assert answer.getheader("Content-Length")
        assert json.loads(answer.read())["status"] == "200"
        ports.add(conn.sock.getsockname()[1])

    assert len(ports) == 1
    conn.close()


def test_chunked_request_body_is_read(sandbox: Sandbox, token: str) -> None:
    parts = urlsplit(sandbox.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    payload = json.dumps(text_body()).encode()
    conn.request(
        "POST",
        TEXT,
        body=iter([payload[:10], payload[10:]]),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        encode_chunked=True,
    )

    assert json.loads(conn.getresponse().read())["status"] == "200"


# -- the world module, without a server -------------------------------------------
@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("082315658823", "6282315658823"), ("6281327666166", "6281327666166"), (" 0812 ", "62812")],
)
def test_number_normalise(raw: str, normalised: str) -> None:
    assert number_normalise(raw) == normalised


def test_deep_merge_merges_dicts_and_deletes_nulls() -> None:
    merged = deep_merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 3, "c": None}, "d": [2]})

    assert merged == {"a": {"b": 3}, "d": [2]}


@pytest.mark.parametrize(
    "world",
    [
        [],
        {"timezone": "Mars/Olympus"},
        {"clients": {"1": {}}},
        {"clients": {"1": {"secret_key": "s", "ip_whitelist": ["not-an-ip"]}}},
        {
            "clients": {"1": {"secret_key": "s"}},
            "projects": {"2": {"client_id": "1", "templates": {"t": {"languages": []}}}},
        },
        {"knobs": {"error_5xx_rate": 2}},
    ],
    ids=["not-object", "timezone", "no-secret", "bad-whitelist", "no-language", "rate-above-1"],
)
def test_world_normalise_refuses_bad_worlds(world: object) -> None:
    with pytest.raises(WorldError):
        world_normalise(world)


def test_knobs_validate_rejects_wrong_types() -> None:
    with pytest.raises(WorldError):
        knobs_validate({"callbacks_enabled": 1}, partial=True)
    with pytest.raises(WorldError):
        knobs_validate({"latency_ms": "5"}, partial=True)
    assert knobs_validate({"latency_ms": 5}, partial=True) == {"latency_ms": 5}


def test_template_request_with_no_review_time_is_decided_in_its_answer(sandbox: Sandbox) -> None:
    sandbox.knobs(approve_delay_ms=0)
    try:
        requested = sandbox.admin(
            "POST",
            "template-request",
            {"project_id": PROJECT_ID, "name": "instant", "param_count": 1},
        )
    finally:
        sandbox.knobs(approve_delay_ms=50)

    assert requested["approval"] == "approved"
    assert requested["active"] is True
    assert requested["approve_delay_ms"] == 0
    template = sandbox.admin("GET", "world")["projects"][PROJECT_ID]["templates"]["instant"]
    assert (template["approval"], template["active"], template["param_count"]) == (
        "approved",
        True,
        1,
    )
