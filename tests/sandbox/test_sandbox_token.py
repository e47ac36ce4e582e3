"""POST /v1/token/get: Basic auth, "Token not expired", 401/406/407, revocation."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.sandbox.helpers import (
    CLIENT_ID,
    FENCED_CLIENT_ID,
    FENCED_SECRET_KEY,
    GOOD_NUMBER,
    PROJECT_ID,
    SECRET_KEY,
    CallbackReceiver,
    Sandbox,
    basic,
    wait_for,
    world_for,
)
from tests.wappin_sandbox import SandboxProcess


def _send_text(sandbox: Sandbox, token: str):
    return sandbox.post_json(
        "/v1/message/do-send",
        {
            "client_id": CLIENT_ID,
            "project_id": PROJECT_ID,
            "message_content": "halo",
            "recipient_number": GOOD_NUMBER,
        },
        token=token,
    )


def test_token_get_success_matches_the_document(sandbox: Sandbox) -> None:
    answer = sandbox.token_get()

    assert answer.http_status == 200
    assert answer.status == "200"
    assert answer.message == "Success"
    data = answer.json["data"]
    assert set(data) == {"access_token", "expired_datetime", "token_type"}
    assert re.fullmatch(r"[0-9a-f]{64}", data["access_token"])
    assert data["token_type"] == "access_token"
    expires = datetime.strptime(data["expired_datetime"], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=ZoneInfo("Asia/Jakarta")
    )
    week_later = datetime.now(ZoneInfo("Asia/Jakarta")) + timedelta(weeks=1)
    assert abs((expires - week_later).total_seconds()) < 60
    assert answer.headers["Content-Length"] == str(len(answer.raw))


def test_asking_again_answers_token_not_expired_with_the_same_token(sandbox: Sandbox) -> None:
    first = sandbox.token_get()
    second = sandbox.token_get()

    assert second.status == "200"
    assert second.message == "Token not expired"
    assert second.json["data"] == first.json["data"]


def test_trailing_slash_is_accepted(sandbox: Sandbox) -> None:
    answer = sandbox.request(
        "POST", "/v1/token/get/", headers={"Authorization": basic(CLIENT_ID, SECRET_KEY)}
    )

    assert answer.status == "200"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer abc", "Basic", "Basic !!!not-base64!!!", "Basic " + "bm9jb2xvbg=="],
    ids=["missing", "empty", "bearer", "no-credentials", "garbled", "no-colon"],
)
def test_unrecognised_authorization_is_406(sandbox: Sandbox, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    answer = sandbox.request("POST", "/v1/token/get", headers=headers)

    assert answer.http_status == 200
    assert (answer.status, answer.message) == ("406", "Auth not recognize")


@pytest.mark.parametrize(
    ("client_id", "secret_key"),
    [(CLIENT_ID, "wrong"), ("9999", SECRET_KEY)],
    ids=["secret", "client"],
)
def test_wrong_credentials_are_401(sandbox: Sandbox, client_id: str, secret_key: str) -> None:
    answer = sandbox.token_get(client_id, secret_key)

    assert (answer.status, answer.message) == ("401", "Invalid credential")
    assert "data" not in answer.json


def test_caller_outside_the_whitelist_is_407(sandbox: Sandbox) -> None:
    answer = sandbox.token_get(FENCED_CLIENT_ID, FENCED_SECRET_KEY)

    assert (answer.status, answer.message) == ("407", "IP Address not allowed")


def test_whitelist_accepts_single_ips_and_cidr(sandbox: Sandbox) -> None:
    for whitelist in (["127.0.0.1"], ["10.0.0.0/8", "127.0.0.0/24"]):
        sandbox.admin(
            "PATCH", "world", {"clients": {FENCED_CLIENT_ID: {"ip_whitelist": whitelist}}}
        )

        answer = sandbox.token_get(FENCED_CLIENT_ID, FENCED_SECRET_KEY)

        assert answer.status == "200", whitelist


def test_forwarded_for_is_trusted_only_when_the_knob_says_so(sandbox: Sandbox) -> None:
    headers = {
        "Authorization": basic(FENCED_CLIENT_ID, FENCED_SECRET_KEY),
        "X-Forwarded-For": "10.1.2.3",
    }

    assert sandbox.request("POST", "/v1/token/get", headers=headers).status == "407"
    sandbox.knobs(trust_x_forwarded_for=True)
    assert sandbox.request("POST", "/v1/token/get", headers=headers).status == "200"


def test_revoked_token_is_refused_and_a_new_one_is_issued(sandbox: Sandbox, token: str) -> None:
    assert _send_text(sandbox, token).status == "200"

    # When the token is revoked
    assert sandbox.admin("POST", "revoke-token", {"client_id": CLIENT_ID})["changed"] is True

    # Then the old one is refused and token/get answers a fresh "Success"
    assert (_send_text(sandbox, token).status, _send_text(sandbox, token).message) == (
        "401",
        "Invalid credential",
    )
    again = sandbox.token_get()
    assert again.message == "Success"
    assert again.json["data"]["access_token"] != token
    assert _send_text(sandbox, again.json["data"]["access_token"]).status == "200"


def test_expired_token_is_refused_and_replaced(sandbox: Sandbox, token: str) -> None:
    sandbox.admin("POST", "expire-token", {"client_id": CLIENT_ID})

    assert _send_text(sandbox, token).status == "401"
    again = sandbox.token_get()
    assert again.message == "Success"
    assert again.json["data"]["access_token"] != token


def test_force_new_token_knob_regenerates_and_invalidates_the_old(
    sandbox: Sandbox, token: str
) -> None:
    sandbox.knobs(force_new_token=True)

    again = sandbox.token_get()

    assert again.message == "Success"
    assert again.json["data"]["access_token"] != token
    assert _send_text(sandbox, token).status == "401"


def test_token_ttl_knob_shortens_the_week(sandbox: Sandbox) -> None:
    sandbox.knobs(token_ttl_s=0.2)
    token = sandbox.token()

    assert _send_text(sandbox, token).status == "200"
    sandbox.knobs(token_ttl_s=604800)
    time.sleep(0.3)
    assert _send_text(sandbox, token).status == "401"


def test_expiry_is_written_in_the_worlds_timezone(sandbox: Sandbox) -> None:
    sandbox.admin("PATCH", "world", {"timezone": "UTC"})

    data = sandbox.token_get().json["data"]

    expires = datetime.strptime(data["expired_datetime"], "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=ZoneInfo("UTC")
    )
    week_later = datetime.now(ZoneInfo("UTC")) + timedelta(weeks=1)
    assert abs((expires - week_later).total_seconds()) < 60


def test_a_restarted_sandbox_keeps_the_tokens_it_issued(
    tmp_path, callback_receiver: CallbackReceiver
) -> None:
    # Given a sandbox that issued a token, stopped and started again on the same world
    # (`make run` rewrites the world file each time)
    world_path = tmp_path / "sandbox-world.json"
    world = world_for(callback_receiver.url)
    first = SandboxProcess(world_path, world=world)
    try:
        token = Sandbox(first.url, callback_receiver).token()
    finally:
        first.stop()
    assert (tmp_path / "sandbox-world.tokens.json").exists()
    second = SandboxProcess(world_path, world=world)
    try:
        sandbox = Sandbox(second.url, callback_receiver)
        callback_receiver.clear()

        # When the portal sends with the token it holds, asks for one, and a customer writes
        sent = _send_text(sandbox, token)
        asked = sandbox.token_get()
        written = sandbox.admin(
            "POST",
            "customer-message",
            {"project_id": PROJECT_ID, "sender_number": GOOD_NUMBER, "message_content": "lagi"},
        )
        wait_for(lambda: sandbox.receiver.bodies(written["message_id"]), timeout=30)

        # Then it is the same token everywhere, as with Wappin across its restarts
        assert sent.status == "200"
        assert (asked.message, asked.json["data"]["access_token"]) == ("Token not expired", token)
        callback = next(
            entry
            for entry in sandbox.receiver.received
            if entry["body"]["message_id"] == written["message_id"]
        )
        assert callback["headers"]["Authorization"] == f"Bearer {token}"
    finally:
        second.stop()


def test_a_token_revoked_before_a_restart_stays_void(
    tmp_path, callback_receiver: CallbackReceiver
) -> None:
    world_path = tmp_path / "sandbox-world.json"
    world = world_for(callback_receiver.url)
    first = SandboxProcess(world_path, world=world)
    try:
        sandbox = Sandbox(first.url, callback_receiver)
        token = sandbox.token()
        sandbox.admin("POST", "revoke-token", {"client_id": CLIENT_ID})
    finally:
        first.stop()
    second = SandboxProcess(world_path, world=world)
    try:
        sandbox = Sandbox(second.url, callback_receiver)
        assert _send_text(sandbox, token).status == "401"
        assert sandbox.token() != token
    finally:
        second.stop()
