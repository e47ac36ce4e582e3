"""do-send-hsm and do-send (JSON): success and every status code of the document."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.sandbox.helpers import (
    CLIENT_ID,
    GOOD_NUMBER,
    INVALID_NUMBER,
    OTHER_CLIENT_ID,
    OTHER_PROJECT_ID,
    OTHER_SECRET_KEY,
    PROJECT_ID,
    Sandbox,
)

HSM = "/v1/message/do-send-hsm"
TEXT = "/v1/message/do-send"


def hsm(**changes: Any) -> dict[str, Any]:
    body = {
        "client_id": CLIENT_ID,
        "project_id": PROJECT_ID,
        "type": "order_shipped",
        "recipient_number": GOOD_NUMBER,
        "language_code": "id",
        "params": {"1": "Name", "2": "8000181008192601"},
        "button": {"url": "bell.com", "reply_payload": {"1": "hsdushfu", "2": "sdfsfd"}},
        "header": {"param": "johan setiawan"},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def text(**changes: Any) -> dict[str, Any]:
    body = {
        "client_id": CLIENT_ID,
        "project_id": PROJECT_ID,
        "message_content": "haihello",
        "recipient_number": "082315658823",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def test_send_hsm_success_matches_the_document(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.post_json(HSM, hsm(), token=token)

    assert answer.http_status == 200
    assert set(answer.json) == {"message_id", "status", "message"}
    assert (answer.status, answer.message) == ("200", "Success")
    assert re.fullmatch(r"[0-9a-f]{13}", answer.json["message_id"])
    [sent] = sandbox.messages(message_id=answer.json["message_id"])
    assert sent["endpoint"] == "do-send-hsm"
    assert sent["type"] == "order_shipped"
    assert sent["params"] == {"1": "Name", "2": "8000181008192601"}
    assert sent["header_param"] == "johan setiawan"
    assert sent["button"]["url"] == "bell.com"
    assert sent["fields"]["recipient_number"] == GOOD_NUMBER


def test_message_ids_are_unique(sandbox: Sandbox, token: str) -> None:
    ids = {sandbox.post_json(TEXT, text(), token=token).json["message_id"] for _ in range(50)}

    assert len(ids) == 50


def test_empty_language_code_uses_the_templates_first_language(
    sandbox: Sandbox, token: str
) -> None:
    answer = sandbox.post_json(
        HSM,
        hsm(type="opening_message1", language_code="", params={"1": "x"}, header=None),
        token=token,
    )

    assert answer.status == "200"
    assert sandbox.messages(message_id=answer.json["message_id"])[0]["language_code"] == "id"


def test_a_listed_second_language_is_accepted(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.post_json(
        HSM,
        hsm(type="opening_message1", language_code="en", params={"1": "x"}, header=None),
        token=token,
    )

    assert answer.status == "200"


def test_params_may_come_as_a_json_string(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.post_json(HSM, hsm(params='{"1": "a", "2": "b"}'), token=token)

    assert answer.status == "200"


def test_template_without_params_accepts_an_empty_object(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.post_json(
        HSM,
        hsm(type="no_params", language_code=None, params={}, header=None, button=None),
        token=token,
    )

    assert answer.status == "200"


@pytest.mark.parametrize("path", [HSM, TEXT])
@pytest.mark.parametrize("authorization", [None, "Basic abc", "Bearer", "token abc"])
def test_missing_or_non_bearer_authorization_is_406(
    sandbox: Sandbox, path: str, authorization: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization

    answer = sandbox.request("POST", path, body=b"{}", headers=headers)

    assert (answer.status, answer.message) == ("406", "Auth not recognize")


@pytest.mark.parametrize(("path", "body"), [(HSM, hsm()), (TEXT, text())])
def test_unknown_token_is_401(sandbox: Sandbox, path: str, body: dict[str, Any]) -> None:
    answer = sandbox.post_json(path, body, token="0" * 64)

    assert (answer.status, answer.message) == ("401", "Invalid credential")


@pytest.mark.parametrize(("path", "body"), [(HSM, hsm()), (TEXT, text())])
def test_caller_outside_the_whitelist_is_407(
    sandbox: Sandbox, token: str, path: str, body: dict[str, Any]
) -> None:
    sandbox.admin("PATCH", "world", {"clients": {CLIENT_ID: {"ip_whitelist": ["192.168.1.0/24"]}}})

    answer = sandbox.post_json(path, body, token=token)

    assert (answer.status, answer.message) == ("407", "IP Address not allowed")


@pytest.mark.parametrize("path", [HSM, TEXT])
@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_400_no_input(
    sandbox: Sandbox, token: str, path: str, raw: bytes
) -> None:
    answer = sandbox.request(
        "POST",
        path,
        body=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )

    assert (answer.status, answer.message) == ("400", "Error no input received")


@pytest.mark.parametrize(
    "missing", ["client_id", "project_id", "type", "recipient_number", "params"]
)
def test_hsm_missing_mandatory_field_is_400_no_input(
    sandbox: Sandbox, token: str, missing: str
) -> None:
    body = hsm()
    del body[missing]

    answer = sandbox.post_json(HSM, body, token=token)

    assert (answer.status, answer.message) == ("400", "Error no input received")


@pytest.mark.parametrize(
    "missing", ["client_id", "project_id", "message_content", "recipient_number"]
)
def test_text_missing_mandatory_field_is_400_no_input(
    sandbox: Sandbox, token: str, missing: str
) -> None:
    body = text()
    del body[missing]

    answer = sandbox.post_json(TEXT, body, token=token)

    assert (answer.status, answer.message) == ("400", "Error no input received")


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": OTHER_CLIENT_ID},
        {"project_id": "123456"},
        {"project_id": OTHER_PROJECT_ID},
    ],
    ids=["client-not-the-tokens", "unknown-project", "project-of-another-client"],
)
@pytest.mark.parametrize(("path", "factory"), [(HSM, hsm), (TEXT, text)], ids=["hsm", "text"])
def test_client_or_project_mismatch_is_400(
    sandbox: Sandbox, token: str, path: str, factory: Any, changes: dict[str, str]
) -> None:
    answer = sandbox.post_json(path, factory(**changes), token=token)

    assert (answer.status, answer.message) == ("400", "Project ID or Client ID cannot be process.")


def test_another_clients_token_cannot_send_for_this_project(sandbox: Sandbox) -> None:
    other_token = sandbox.token(OTHER_CLIENT_ID, OTHER_SECRET_KEY)

    answer = sandbox.post_json(HSM, hsm(), token=other_token)

    assert answer.message == "Project ID or Client ID cannot be process."


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "no_such_template"},
        {"type": "old_promo", "params": {}, "header": None},
        {"language_code": "en"},
    ],
    ids=["unknown", "inactive", "language-not-listed"],
)
def test_unknown_or_inactive_template_is_404(
    sandbox: Sandbox, token: str, changes: dict[str, Any]
) -> None:
    answer = sandbox.post_json(HSM, hsm(**changes), token=token)

    assert (answer.status, answer.message) == (
        "404",
        "API Notification Template not found or inactive",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"params": {"1": "only one"}},
        {"params": {"1": "a", "2": "b", "3": "c"}},
        {"params": {"0": "a", "1": "b"}},
        {"params": {"a": "a", "b": "b"}},
        {"header": None},
        {"type": "opening_message1", "params": {"1": "x"}},
    ],
    ids=[
        "too-few",
        "too-many",
        "zero-based",
        "not-numbered",
        "header-missing",
        "header-not-expected",
    ],
)
def test_param_count_mismatch_is_400(sandbox: Sandbox, token: str, changes: dict[str, Any]) -> None:
    answer = sandbox.post_json(HSM, hsm(**changes), token=token)

    assert (answer.status, answer.message) == ("400", "Message param count do not match")


@pytest.mark.parametrize(
    "number", [INVALID_NUMBER, "08110000000" + "0", "12345", "6281abc45678", "+6281327666166"]
)
@pytest.mark.parametrize(("path", "factory"), [(HSM, hsm), (TEXT, text)], ids=["hsm", "text"])
def test_invalid_contact_is_601(
    sandbox: Sandbox, token: str, path: str, factory: Any, number: str
) -> None:
    answer = sandbox.post_json(path, factory(recipient_number=number), token=token)

    assert (answer.status, answer.message) == ("601", "Contact invalid")


def test_send_text_success_has_data_null_and_normalises_08_numbers(
    sandbox: Sandbox, token: str
) -> None:
    answer = sandbox.post_json(TEXT, text(), token=token)

    assert answer.json == {
        "message_id": answer.json["message_id"],
        "status": "200",
        "message": "Success",
        "data": None,
    }
    [sent] = sandbox.messages(message_id=answer.json["message_id"])
    assert sent["recipient_number"] == "082315658823"
    assert sent["recipient_number_normalised"] == "6282315658823"
    assert sent["message_content"] == "haihello"


def test_get_on_an_api_path_is_405(sandbox: Sandbox) -> None:
    assert sandbox.request("GET", HSM).http_status == 405


def test_unknown_path_is_404(sandbox: Sandbox) -> None:
    assert sandbox.request("POST", "/v1/message/nope", body=b"{}").http_status == 404


@pytest.mark.parametrize("number", ["447400123456", "60123456789", "14155552671", "6591234567"])
def test_numbers_of_other_countries_are_sent(sandbox: Sandbox, token: str, number: str) -> None:
    answer = sandbox.post_json(HSM, hsm(recipient_number=number), token=token)
    assert answer.status == "200"
