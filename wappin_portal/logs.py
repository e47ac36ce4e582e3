"""Structured logs: one JSON line per request and per Celery task, with a request id.

- `RequestLogMiddleware` takes a sane `X-Request-Id` from the client (at most
  64 characters of `[A-Za-z0-9._-]`) or makes one, echoes it in the answer's
  header, and logs one line when the answer is ready (method, path without the
  query string, status, duration, user or API key id, project id).
- The request id travels into tasks in a message header (`before_task_publish`)
  and is set again in the worker (`task_prerun`), so a task's lines carry the
  id of the request that queued it; `task_postrun` logs one line per task.
- `ContextFilter` puts the current request id and context on every record;
  `JsonFormatter` writes the line and scrubs anything shaped like a credential
  (Authorization values, API keys, `secret_key=`/`token: ...` pairs), a last
  line of defence behind never logging secrets in the first place.

Production settings use these (`LOGGING` there); other settings keep plain text.
Code that knows more (a project, a Wappin message id) adds it with
`log_context_update(...)`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject, empty

from celery import signals

REQUEST_ID_HEADER = "X-Request-Id"
CELERY_REQUEST_ID_HEADER = "wappin_request_id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The fields a line may carry beside the basic ones, in this order.
CONTEXT_FIELDS = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "api_key_id",
    "project_id",
    "task",
    "task_id",
    "task_state",
    "wappin_message_id",
)

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_context_var: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "log_context", default=None
)

request_logger = logging.getLogger("wappin_portal.request")
task_logger = logging.getLogger("wappin_portal.task")


def request_id_sanitize(value: str | None) -> str:
    """The client's request id when it is sane, else a new one."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def log_context_update(**fields) -> None:
    """Add fields (project_id, wappin_message_id, ...) to every line of the current request or task."""
    context = dict(_context_var.get() or {})
    context.update({key: value for key, value in fields.items() if key in CONTEXT_FIELDS})
    _context_var.set(context)


class RequestLogMiddleware:
    """First in MIDDLEWARE: sees every answer, including redirects and errors of the others."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_sanitize(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        id_token = request_id_var.set(request_id)
        context_token = _context_var.set({})
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    **_request_identity(request),
                },
            )
            return response
        finally:
            _context_var.reset(context_token)
            request_id_var.reset(id_token)


def _request_identity(request: HttpRequest) -> dict:
    """Who asked, and about which project, from what the request already loaded (no query)."""
    identity = {}
    api_key = getattr(request, "auth", None)  # DRF sets it on the Django request too
    if api_key is not None and hasattr(api_key, "project_id"):
        identity["api_key_id"] = api_key.pk
        identity["project_id"] = api_key.project_id
    user = getattr(request, "user", None)
    # Only a user the request already loaded: `request.user` is lazy, and reading it costs a query.
    loaded = user is not None and not (isinstance(user, LazyObject) and user._wrapped is empty)
    if loaded and user.is_authenticated and getattr(user, "pk", None) is not None:
        identity["user_id"] = user.pk
    project = getattr(request, "project", None)
    if project is not None and getattr(project, "pk", None) is not None:
        identity["project_id"] = project.pk
    return identity


class ContextFilter(logging.Filter):
    """Copy the current request id and context onto the record (what a line was written for)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        for key, value in (_context_var.get() or {}).items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


# Credentials in free text: header values, our API keys, and `name=value` / `"name": "value"` pairs.
_REDACTIONS = (
    (re.compile(r"(?i)\b(api-key|bearer|basic)(\s+)[^\s\"',;]+"), r"\1\2[redacted]"),
    (re.compile(r"\bwp_[A-Za-z0-9_-]{16,}"), "wp_[redacted]"),
    (
        re.compile(
            r"(?i)((?:client_key|secret_key|access_token|previous_access_token|token|password|secret|"
            r"authorization|api_key|sessionid|csrftoken)\\?[\"']?\s*[:=]\s*\\?[\"']?)[^\s\"'\\,;&}]+"
        ),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, then the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str, ensure_ascii=False))


# --- Celery: the request id in task headers, and one line per task --------------------

_task_started: dict[str, float] = {}
_task_tokens: dict[str, tuple] = {}


@signals.before_task_publish.connect
def _request_id_to_headers(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id and CELERY_REQUEST_ID_HEADER not in headers:
        headers[CELERY_REQUEST_ID_HEADER] = request_id


@signals.task_prerun.connect
def _task_context_set(task_id: str | None = None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    # The id of the request that queued the task; in an eager task, the request it runs in.
    request_id = request_id_sanitize(
        getattr(request, CELERY_REQUEST_ID_HEADER, None) or request_id_var.get() or task_id
    )
    _task_tokens[task_id] = (
        request_id_var.set(request_id),
        _context_var.set({"task": getattr(task, "name", None), "task_id": task_id}),
    )
    _task_started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _task_log(task_id: str | None = None, task=None, state: str | None = None, **kwargs) -> None:
    started = _task_started.pop(task_id, None)
    task_logger.info(
        "task %s %s",
        getattr(task, "name", "?"),
        state,
        extra={
            "task_state": state,
            "duration_ms": round((time.monotonic() - started) * 1000, 1) if started else None,
        },
    )
    tokens = _task_tokens.pop(task_id, None)
    if tokens is not None:
        try:
            _context_var.reset(tokens[1])
            request_id_var.reset(tokens[0])
        except ValueError:  # set in another context (an eager task inside a request): leave it
            pass
