"""The multipart endpoints: do-send-media and do-send-hsm-with-media."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest

from tests.sandbox.helpers import (
    CLIENT_ID,
    GOOD_NUMBER,
    INVALID_NUMBER,
    PROJECT_ID,
    Sandbox,
)

MEDIA = "/v1/message/do-send-media"
HSM_MEDIA = "/v1/message/do-send-hsm-with-media"
# Bytes that trip naive parsers: CRLFs, a fake boundary, NULs.
AWKWARD_BYTES = b"\x89PNG\r\n\x1a\n\x00\r\n--fake-boundary\r\n\n\r" + os.urandom(4096)


def media_fields(**changes: str | None) -> dict[str, str]:
    fields = {
        "client_id": CLIENT_ID,
        "project_id": PROJECT_ID,
        "recipient_number": "082315658823",
        "media_type": "image",
        "caption": "test",
    }
    fields.update(changes)  # type: ignore[arg-type]
    return {key: value for key, value in fields.items() if value is not None}


def hsm_media_fields(**changes: str | None) -> dict[str, str]:
    fields = {
        "client_id": CLIENT_ID,
        "project_id": PROJECT_ID,
        "type": "order_shipped",
        "recipient_number": "628989898989",
        "language_code": "id",
        "params": json.dumps({"1": "Name", "2": "8000181008192601"}),
        "button": json.dumps(
            {"url": "bell.com", "reply_payload": {"1": "hsdushfu", "2": "sdfsdd"}}
        ),
        "header": json.dumps({"param": "johan setiawan"}),
    }
    fields.update(changes)  # type: ignore[arg-type]
    return {key: value for key, value in fields.items() if value is not None}


def a_file(
    name: str = "IMG_9180.JPG", data: bytes = AWKWARD_BYTES
) -> dict[str, tuple[str, bytes, str]]:
    return {"media": (name, data, "application/octet-stream")}


@pytest.mark.parametrize(
    ("media_type", "filename"),
    [
        ("image", "IMG_9180.JPG"),
        ("image", "a.png"),
        ("document", "report.pdf"),
        ("document", "sheet.xlsx"),
        ("audio", "voice.ogg"),
        ("audio", "note.opus"),
    ],
)
def test_send_media_success_keeps_the_exact_bytes(
    sandbox: Sandbox, token: str, media_type: str, filename: str
) -> None:
    answer = sandbox.post_multipart(
        MEDIA, media_fields(media_type=media_type), a_file(filename), token=token
    )

    assert answer.json == {
        "message_id": answer.json["message_id"],
        "status": "200",
        "message": "Success",
        "data": None,
    }
    [sent] = sandbox.messages(message_id=answer.json["message_id"])
    assert sent["media"]["filename"] == filename
    assert sent["media"]["size"] == len(AWKWARD_BYTES)
    assert sent["media"]["sha256"] == hashlib.sha256(AWKWARD_BYTES).hexdigest()
    assert sent["caption"] == "test"
    assert sent["recipient_number_normalised"] == "6282315658823"


@pytest.mark.parametrize(
    ("media_type", "filename", "data"),
    [
        ("video", "clip.jpg", AWKWARD_BYTES),
        ("image", "report.pdf", AWKWARD_BYTES),
        ("document", "photo.jpg", AWKWARD_BYTES),
        ("audio", "voice.wav", AWKWARD_BYTES),
        ("image", "noextension", AWKWARD_BYTES),
        ("image", "empty.jpg", b""),
    ],
    ids=[
        "unknown-media-type",
        "pdf-as-image",
        "jpg-as-document",
        "wav",
        "no-extension",
        "empty-file",
    ],
)
def test_bad_media_is_605(
    sandbox: Sandbox, token: str, media_type: str, filename: str, data: bytes
) -> None:
    answer = sandbox.post_multipart(
        MEDIA, media_fields(media_type=media_type), a_file(filename, data), token=token
    )

    assert (answer.status, answer.message) == ("605", "Upload Media Failed")
    assert sandbox.messages() == []


def test_media_over_the_size_limit_is_605(sandbox: Sandbox, token: str) -> None:
    sandbox.admin("PATCH", "world", {"media_max_bytes": {"image": 100}})

    answer = sandbox.post_multipart(MEDIA, media_fields(), a_file("a.jpg", b"x" * 101), token=token)

    assert answer.status == "605"


@pytest.mark.parametrize(
    "missing", ["client_id", "project_id", "recipient_number", "media_type", "media"]
)
def test_send_media_missing_field_is_400_no_input(
    sandbox: Sandbox, token: str, missing: str
) -> None:
    files = {} if missing == "media" else a_file()

    answer = sandbox.post_multipart(MEDIA, media_fields(**{missing: None}), files, token=token)

    assert (answer.status, answer.message) == ("400", "Error no input received")


@pytest.mark.parametrize("path", [MEDIA, HSM_MEDIA])
def test_a_json_body_on_a_multipart_endpoint_is_400_no_input(
    sandbox: Sandbox, token: str, path: str
) -> None:
    answer = sandbox.post_json(path, media_fields(), token=token)

    assert (answer.status, answer.message) == ("400", "Error no input received")


@pytest.mark.parametrize("path", [MEDIA, HSM_MEDIA])
def test_multipart_endpoints_check_auth_ip_project_and_contact(
    sandbox: Sandbox, token: str, path: str
) -> None:
    fields = media_fields() if path == MEDIA else hsm_media_fields()

    assert sandbox.post_multipart(path, fields, a_file(), token=None).status == "406"
    assert sandbox.post_multipart(path, fields, a_file(), token="f" * 64).status == "401"
    bad_project = {**fields, "project_id": "31337"}
    assert sandbox.post_multipart(path, bad_project, a_file(), token=token).message == (
        "Project ID or Client ID cannot be process."
    )
    bad_number = {**fields, "recipient_number": INVALID_NUMBER}
    assert sandbox.post_multipart(path, bad_number, a_file(), token=token).status == "601"
    sandbox.admin("PATCH", "world", {"clients": {CLIENT_ID: {"ip_whitelist": ["10.9.9.9"]}}})
    assert sandbox.post_multipart(path, fields, a_file(), token=token).status == "407"


def test_send_hsm_with_media_success(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.post_multipart(HSM_MEDIA, hsm_media_fields(), a_file(), token=token)

    assert answer.json == {
        "message_id": answer.json["message_id"],
        "status": "200",
        "message": "Success",
    }
    [sent] = sandbox.messages(message_id=answer.json["message_id"])
    assert sent["endpoint"] == "do-send-hsm-with-media"
    assert sent["params"] == {"1": "Name", "2": "8000181008192601"}
    assert sent["button"] == {"url": "bell.com", "reply_payload": {"1": "hsdushfu", "2": "sdfsdd"}}
    assert sent["header_param"] == "johan setiawan"
    assert sent["media"]["sha256"] == hashlib.sha256(AWKWARD_BYTES).hexdigest()
    assert sent["fields"]["params"] == hsm_media_fields()["params"]


@pytest.mark.parametrize(
    "header_fields",
    [
        {"header": None, "header_param": "johan"},
        {"header": None, "header[param]": "johan"},
        {"header": "johan"},
    ],
    ids=["header_param", "php-style", "plain-string"],
)
def test_hsm_with_media_accepts_the_header_param_spellings(
    sandbox: Sandbox, token: str, header_fields: dict[str, Any]
) -> None:
    fields = hsm_media_fields(**{k: v for k, v in header_fields.items() if "[" not in k})
    fields.update({k: v for k, v in header_fields.items() if "[" in k})

    answer = sandbox.post_multipart(HSM_MEDIA, fields, a_file(), token=token)

    assert answer.status == "200"
    assert sandbox.messages(message_id=answer.json["message_id"])[0]["header_param"] == "johan"


def test_hsm_with_media_accepts_php_style_params(sandbox: Sandbox, token: str) -> None:
    fields = hsm_media_fields(params=None)
    fields.update({"params[1]": "Name", "params[2]": "800018"})

    answer = sandbox.post_multipart(HSM_MEDIA, fields, a_file(), token=token)

    assert answer.status == "200"


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"params": json.dumps({"1": "only"})}, "400", "Message param count do not match"),
        ({"header": None}, "400", "Message param count do not match"),
        ({"params": "{not json"}, "400", "Error no input received"),
        ({"params": None}, "400", "Error no input received"),
        ({"type": "no_such"}, "404", "API Notification Template not found or inactive"),
        ({"language_code": "fr"}, "404", "API Notification Template not found or inactive"),
    ],
    ids=[
        "param-count",
        "header-missing",
        "params-not-json",
        "params-missing",
        "template",
        "language",
    ],
)
def test_hsm_with_media_errors(
    sandbox: Sandbox, token: str, changes: dict[str, Any], status: str, message: str
) -> None:
    answer = sandbox.post_multipart(HSM_MEDIA, hsm_media_fields(**changes), a_file(), token=token)

    assert (answer.status, answer.message) == (status, message)


@pytest.mark.parametrize(("filename", "data"), [("virus.exe", AWKWARD_BYTES), ("a.jpg", b"")])
def test_hsm_with_media_bad_file_is_605(
    sandbox: Sandbox, token: str, filename: str, data: bytes
) -> None:
    answer = sandbox.post_multipart(
        HSM_MEDIA, hsm_media_fields(), a_file(filename, data), token=token
    )

    assert (answer.status, answer.message) == ("605", "Upload Media Failed")


def test_a_truncated_multipart_body_is_400(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.request(
        "POST",
        MEDIA,
        body=b'--abc\r\nContent-Disposition: form-data; name="client_id"\r\n\r\n0070',
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "multipart/form-data; boundary=abc",
        },
    )

    assert answer.status == "400"


def test_recipient_with_leading_zero_is_normalised(sandbox: Sandbox, token: str) -> None:
    answer = sandbox.post_multipart(
        HSM_MEDIA, hsm_media_fields(recipient_number="0" + GOOD_NUMBER[2:]), a_file(), token=token
    )

    assert (
        sandbox.messages(message_id=answer.json["message_id"])[0]["recipient_number_normalised"]
        == GOOD_NUMBER
    )
