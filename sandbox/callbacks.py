"""Wappin's callbacks (document section 6): status flows and customer messages.

Payloads use the field names of the document's *samples*, quirks included:
``"project id"`` with a space in status callbacks, ``"project_id"`` in message
callbacks, ``"status_messages"`` and ``"environment"`` (the table says
``status_message`` and ``enviromtent``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from sandbox.state import State

# "If the response is not 000, then the callback will be sent again and retried 3 times."
CALLBACK_RETRIES = 3
RESPONSE_PREVIEW_CHARS = 500


def _now_epoch() -> str:
    return str(int(time.time()))


def callback_url(project: dict[str, Any], integration: str) -> str:
    """Wappin keeps a callback URL per integration: notification (HSM) and chatbot."""
    return project.get(f"{integration}_callback_url") or project["callback_url"]


def status_flow_start(state: State, message_id: str, *, undeliverable: bool) -> None:
    """sent -> delivered -> read (or sent -> failed), one step per callback_delay_ms."""
    statuses = ["sent", "failed"] if undeliverable else ["sent", "delivered", "read"]
    delay_s = state.knob("callback_delay_ms") / 1000
    state.scheduler.schedule(delay_s, lambda: _status_step(state, message_id, statuses))


def _status_step(state: State, message_id: str, statuses: list[str]) -> None:
    status, rest = statuses[0], statuses[1:]
    timestamp = _now_epoch()
    if not state.message_status_add(message_id, status, timestamp):
        return  # forgotten by a reset
    if rest:
        delay_s = state.knob("callback_delay_ms") / 1000
        state.scheduler.schedule(delay_s, lambda: _status_step(state, message_id, rest))
    with state.lock:
        record = state.messages.get(message_id)
        if record is None:
            return
        project = state.world["projects"].get(record["project_id"])
        client = state.world["clients"].get(record["client_id"])
        environment = state.world["environment"]
    if project is None or client is None:
        return
    payload = {
        "message_id": message_id,
        "client_id": record["client_id"],
        "client_name": client["name"],
        "project id": record["project_id"],
        "project_name": project["name"],
        "sender_number": record["recipient_number_normalised"],
        "status_messages": status,
        "message_content": "-",
        "environment": environment,
        "timestamp": timestamp,
        "callback_type": "status",
    }
    integration = "notification" if record["endpoint"].startswith("do-send-hsm") else "chatbot"
    url = callback_url(project, integration)
    callback_send(state, url, payload, client_id=record["client_id"])


def customer_message_send(
    state: State, *, project_id: str, sender_number: str, message_content: str
) -> dict[str, Any]:
    """A customer writes to the business number: a ``message`` callback with a new id."""
    with state.lock:
        project = state.world["projects"].get(project_id)
        if project is None:
            raise LookupError(f"unknown project_id {project_id!r}")
        client = state.world["clients"][project["client_id"]]
        environment = state.world["environment"]
    message_id = state.message_id_new()
    timestamp = _now_epoch()
    record = {
        "message_id": message_id,
        "direction": "in",
        "endpoint": "customer-message",
        "client_id": project["client_id"],
        "project_id": project_id,
        "sender_number": sender_number,
        "message_content": message_content,
        "fields": {},
        "media": None,
        "status": "received",
        "timeline": [],
        "created_at": time.time(),
    }
    state.message_store(record)
    payload = {
        "message_id": message_id,
        "client_id": project["client_id"],
        "client_name": client["name"],
        "project_id": project_id,
        "project_name": project["name"],
        "sender_number": sender_number,
        "status_messages": "-",
        "message_content": message_content,
        "environment": environment,
        "timestamp": timestamp,
        "callback_type": "message",
    }
    state.scheduler.schedule(
        0,
        lambda: callback_send(
            state, callback_url(project, "chatbot"), payload, client_id=project["client_id"]
        ),
    )
    return payload


def callback_send(
    state: State, url: str, payload: dict[str, Any], *, client_id: str, attempt: int = 1
) -> None:
    """POST one callback attempt, log it, and schedule a retry unless the answer is 000."""
    if not url or not state.knob("callbacks_enabled"):
        return
    token = state.token_for_callback(client_id)
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    entry: dict[str, Any] = {
        "message_id": payload["message_id"],
        "callback_type": payload["callback_type"],
        "status": payload["status_messages"],
        "url": url,
        "attempt": attempt,
        "payload": payload,
        "sent_at": time.time(),
        "http_status": None,
        "response_body": None,
        "error": None,
        "accepted": False,
    }
    body = b""
    try:
        with urllib.request.urlopen(request, timeout=state.knob("callback_timeout_s")) as answer:
            entry["http_status"] = answer.status
            body = answer.read()
    except urllib.error.HTTPError as exc:
        entry["http_status"] = exc.code
        body = exc.read()
    except (OSError, ValueError) as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"
    entry["response_body"] = body.decode("utf-8", "replace")[:RESPONSE_PREVIEW_CHARS]
    # The body is the truth: only {"status": "000"} stops the retries.
    try:
        answer_json = json.loads(body)
        entry["accepted"] = isinstance(answer_json, dict) and answer_json.get("status") == "000"
    except ValueError:
        entry["accepted"] = False
    state.callback_log_add(entry)
    if not entry["accepted"] and attempt <= CALLBACK_RETRIES:
        backoff_s = state.knob("callback_retry_backoff_ms") / 1000 * attempt
        state.scheduler.schedule(
            backoff_s,
            lambda: callback_send(state, url, payload, client_id=client_id, attempt=attempt + 1),
        )
