"""The Wappin endpoints, answer for answer as the API document (v2.1) gives them.

Every handler takes a ``WappinRequest`` and returns the JSON body; the body's
``"status"`` is the truth and the HTTP code is always 200, as on
api.wappin.id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import time
from dataclasses import dataclass
from email.message import Message
from typing import Any

from sandbox.callbacks import status_flow_start
from sandbox.multipart import FormData, MultipartError, multipart_parse
from sandbox.state import State
from sandbox.world import MEDIA_EXTENSIONS, number_is_valid, number_normalise

SUCCESS = "Success"
TOKEN_NOT_EXPIRED = "Token not expired"
INVALID_CREDENTIAL = "Invalid credential"
AUTH_NOT_RECOGNIZED = "Auth not recognize"
IP_NOT_ALLOWED = "IP Address not allowed"
NO_INPUT = "Error no input received"
BAD_CLIENT_OR_PROJECT = "Project ID or Client ID cannot be process."
PARAM_COUNT = "Message param count do not match"
TEMPLATE_NOT_FOUND = "API Notification Template not found or inactive"
CONTACT_INVALID = "Contact invalid"
UPLOAD_FAILED = "Upload Media Failed"
DATA_NOT_FOUND = "Data not Found"


@dataclass
class WappinRequest:
    headers: Message
    body: bytes
    client_ip: str


class WappinAnswer(Exception):
    """Stop handling and answer this body."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.body: dict[str, Any] = {"status": status, "message": message}


def _ip_allowed(client: dict[str, Any], ip: str) -> bool:
    whitelist = client["ip_whitelist"]
    if not whitelist:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in whitelist)


def _authorization(request: WappinRequest, scheme: str) -> str:
    header = request.headers.get("Authorization", "")
    given_scheme, _, value = header.strip().partition(" ")
    if given_scheme.lower() != scheme or not value.strip():
        raise WappinAnswer("406", AUTH_NOT_RECOGNIZED)
    return value.strip()


# -- token --------------------------------------------------------------
def token_get(state: State, request: WappinRequest) -> dict[str, Any]:
    credentials = _authorization(request, "basic")
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise WappinAnswer("406", AUTH_NOT_RECOGNIZED) from None
    client_id, colon, secret_key = decoded.partition(":")
    if not colon:
        raise WappinAnswer("406", AUTH_NOT_RECOGNIZED)
    with state.lock:
        client = state.world["clients"].get(client_id)
    if client is None or client["secret_key"] != secret_key:
        raise WappinAnswer("401", INVALID_CREDENTIAL)
    if not _ip_allowed(client, request.client_ip):
        raise WappinAnswer("407", IP_NOT_ALLOWED)
    token, is_new = state.token_issue(client_id)
    return {
        "status": "200",
        "message": SUCCESS if is_new else TOKEN_NOT_EXPIRED,
        "data": {
            "access_token": token.access_token,
            "expired_datetime": state.local_datetime(token.expires_at),
            "token_type": "access_token",
        },
    }


# -- the Bearer calls -----------------------------------------------------
def _bearer_client(state: State, request: WappinRequest) -> str:
    client_id = state.token_client(_authorization(request, "bearer"))
    if client_id is None:
        raise WappinAnswer("401", INVALID_CREDENTIAL)
    with state.lock:
        client = state.world["clients"].get(client_id)
    if client is None:  # the world was replaced under the token
        raise WappinAnswer("401", INVALID_CREDENTIAL)
    if not _ip_allowed(client, request.client_ip):
        raise WappinAnswer("407", IP_NOT_ALLOWED)
    return client_id


def _json_body(request: WappinRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body)
    except ValueError:
        raise WappinAnswer("400", NO_INPUT) from None
    if not isinstance(body, dict):
        raise WappinAnswer("400", NO_INPUT)
    return body


def _form_body(request: WappinRequest) -> FormData:
    try:
        return multipart_parse(request.headers.get("Content-Type", ""), request.body)
    except MultipartError:
        raise WappinAnswer("400", NO_INPUT) from None


def _require(fields: dict[str, Any], *names: str) -> None:
    for name in names:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise WappinAnswer("400", NO_INPUT)


def _project(state: State, client_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    project_id = str(fields["project_id"])
    with state.lock:
        project = state.world["projects"].get(project_id)
    if (
        str(fields["client_id"]) != client_id
        or project is None
        or project["client_id"] != client_id
    ):
        raise WappinAnswer("400", BAD_CLIENT_OR_PROJECT)
    return project


def _json_value(value: Any, *, kind: type) -> Any:
    """Multipart carries objects as JSON strings; JSON bodies may carry either."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise WappinAnswer("400", NO_INPUT) from None
    if not isinstance(value, kind):
        raise WappinAnswer("400", NO_INPUT)
    return value


def _form_object(form: dict[str, str], name: str) -> Any:
    """``params`` as a JSON string, or PHP-style ``params[1]`` fields."""
    if name in form:
        return form[name]
    prefix = f"{name}["
    items = {
        key[len(prefix) : -1]: value
        for key, value in form.items()
        if key.startswith(prefix) and key.endswith("]")
    }
    return items or None


def _header_param(fields: dict[str, Any]) -> str | None:
    """The document's table says ``header param``; its sample sends ``{"header": {"param": ..}}``."""
    header = fields.get("header")
    if header is not None and header != "":
        if isinstance(header, str):
            try:
                header = json.loads(header)
            except ValueError:
                return header
        if isinstance(header, dict):
            return None if header.get("param") is None else str(header["param"])
        return str(header)
    for name in ("header_param", "header param", "header[param]"):
        if fields.get(name) not in (None, ""):
            return str(fields[name])
    return None


def _template(state: State, project: dict[str, Any], fields: dict[str, Any]) -> tuple[str, str]:
    template = project["templates"].get(str(fields["type"]))
    if template is None or not template["active"]:
        raise WappinAnswer("404", TEMPLATE_NOT_FOUND)
    language = str(fields.get("language_code") or "").strip()
    if not language:
        language = template["languages"][0]
    elif language not in template["languages"]:
        raise WappinAnswer("404", TEMPLATE_NOT_FOUND)
    params = _json_value(fields["params"], kind=dict)
    expected = {str(n) for n in range(1, template["param_count"] + 1)}
    if set(params) != expected:
        raise WappinAnswer("400", PARAM_COUNT)
    has_header_param = _header_param(fields) is not None
    if has_header_param != template["header_param"]:
        raise WappinAnswer("400", PARAM_COUNT)
    return str(fields["type"]), language


def _recipient(state: State, raw: Any) -> str:
    number = number_normalise(raw)
    with state.lock:
        invalid = {number_normalise(n) for n in state.world["invalid_numbers"]}
    if not number_is_valid(number) or number in invalid:
        raise WappinAnswer("601", CONTACT_INVALID)
    return number


def _media(state: State, form: FormData, media_type: str | None) -> dict[str, Any]:
    upload = form.files.get("media")
    if upload is None:
        raise WappinAnswer("400", NO_INPUT)
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if media_type is None:
        # A template's media header: the document names no types, so any it lists elsewhere.
        media_type = next(
            (kind for kind, exts in MEDIA_EXTENSIONS.items() if extension in exts), None
        )
    if media_type not in MEDIA_EXTENSIONS or extension not in MEDIA_EXTENSIONS[media_type]:
        raise WappinAnswer("605", UPLOAD_FAILED)
    with state.lock:
        max_bytes = state.world["media_max_bytes"].get(media_type)
    if not upload.data or (max_bytes and len(upload.data) > max_bytes):
        raise WappinAnswer("605", UPLOAD_FAILED)
    return {
        "filename": upload.filename,
        "content_type": upload.content_type,
        "media_type": media_type,
        "size": len(upload.data),
        "sha256": hashlib.sha256(upload.data).hexdigest(),
    }


def _accept(
    state: State,
    *,
    endpoint: str,
    client_id: str,
    project_id: str,
    number: str,
    fields: dict[str, Any],
    extra: dict[str, Any],
) -> str:
    with state.lock:
        undeliverable = number in {
            number_normalise(n) for n in state.world["undeliverable_numbers"]
        }
    message_id = state.message_id_new()
    state.message_store(
        {
            "message_id": message_id,
            "direction": "out",
            "endpoint": endpoint,
            "client_id": client_id,
            "project_id": project_id,
            "recipient_number": str(fields["recipient_number"]),
            "recipient_number_normalised": number,
            "fields": fields,
            "media": None,
            **extra,
            "undeliverable": undeliverable,
            "status": "accepted",
            "timeline": [],
            "created_at": time.time(),
        }
    )
    status_flow_start(state, message_id, undeliverable=undeliverable)
    return message_id


def send_hsm(state: State, request: WappinRequest) -> dict[str, Any]:
    client_id = _bearer_client(state, request)
    fields = _json_body(request)
    _require(fields, "client_id", "project_id", "type", "recipient_number", "params")
    project = _project(state, client_id, fields)
    template, language = _template(state, project, fields)
    number = _recipient(state, fields["recipient_number"])
    message_id = _accept(
        state,
        endpoint="do-send-hsm",
        client_id=client_id,
        project_id=str(fields["project_id"]),
        number=number,
        fields=fields,
        extra={
            "type": template,
            "language_code": language,
            "params": _json_value(fields["params"], kind=dict),
            "header_param": _header_param(fields),
            "button": _json_value(fields["button"], kind=dict) if fields.get("button") else None,
        },
    )
    return {"message_id": message_id, "status": "200", "message": SUCCESS}


def send_hsm_with_media(state: State, request: WappinRequest) -> dict[str, Any]:
    client_id = _bearer_client(state, request)
    form = _form_body(request)
    fields: dict[str, Any] = dict(form.fields)
    fields["params"] = _form_object(form.fields, "params")
    _require(fields, "client_id", "project_id", "type", "recipient_number", "params")
    if "media" not in form.files:
        raise WappinAnswer("400", NO_INPUT)
    project = _project(state, client_id, fields)
    template, language = _template(state, project, fields)
    number = _recipient(state, fields["recipient_number"])
    media = _media(state, form, None)
    button = _form_object(form.fields, "button")
    message_id = _accept(
        state,
        endpoint="do-send-hsm-with-media",
        client_id=client_id,
        project_id=str(fields["project_id"]),
        number=number,
        fields=form.fields,
        extra={
            "type": template,
            "language_code": language,
            "params": _json_value(fields["params"], kind=dict),
            "header_param": _header_param(fields),
            "button": _json_value(button, kind=dict) if button else None,
            "media": media,
        },
    )
    return {"message_id": message_id, "status": "200", "message": SUCCESS}


def send_text(state: State, request: WappinRequest) -> dict[str, Any]:
    client_id = _bearer_client(state, request)
    fields = _json_body(request)
    _require(fields, "client_id", "project_id", "message_content", "recipient_number")
    _project(state, client_id, fields)
    number = _recipient(state, fields["recipient_number"])
    message_id = _accept(
        state,
        endpoint="do-send",
        client_id=client_id,
        project_id=str(fields["project_id"]),
        number=number,
        fields=fields,
        extra={"message_content": str(fields["message_content"])},
    )
    return {"message_id": message_id, "status": "200", "message": SUCCESS, "data": None}


def send_media(state: State, request: WappinRequest) -> dict[str, Any]:
    client_id = _bearer_client(state, request)
    form = _form_body(request)
    fields: dict[str, Any] = dict(form.fields)
    _require(fields, "client_id", "project_id", "recipient_number", "media_type")
    if "media" not in form.files:
        raise WappinAnswer("400", NO_INPUT)
    _project(state, client_id, fields)
    number = _recipient(state, fields["recipient_number"])
    media = _media(state, form, fields["media_type"].strip().lower())
    message_id = _accept(
        state,
        endpoint="do-send-media",
        client_id=client_id,
        project_id=str(fields["project_id"]),
        number=number,
        fields=form.fields,
        extra={"media": media, "caption": fields.get("caption")},
    )
    return {"message_id": message_id, "status": "200", "message": SUCCESS, "data": None}


def inquiry(state: State, request: WappinRequest) -> dict[str, Any]:
    client_id = _bearer_client(state, request)
    fields = _json_body(request)
    _require(fields, "message_id")
    message_id = str(fields["message_id"])
    with state.lock:
        record = state.messages.get(message_id)
        owned = record is not None and record["client_id"] == client_id
    timeline = state.message_timeline(message_id) if owned else None
    if timeline is None:
        raise WappinAnswer("404", DATA_NOT_FOUND)
    return {"message_id": message_id, "status": "200", "message": SUCCESS, "data": timeline}


ROUTES = {
    "/v1/token/get": token_get,
    "/v1/message/do-send-hsm": send_hsm,
    "/v1/message/do-send-hsm-with-media": send_hsm_with_media,
    "/v1/message/do-send": send_text,
    "/v1/message/do-send-media": send_media,
    "/v1/message/inquiry": inquiry,
}


def api_handle(state: State, path: str, request: WappinRequest) -> dict[str, Any]:
    try:
        return ROUTES[path](state, request)
    except WappinAnswer as answer:
        return answer.body
