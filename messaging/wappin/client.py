"""The one client of Wappin's API (document v2.1): tokens, the four sends and the inquiry.

Every call goes through `WappinClient._request()`, which sets the base URL, the
timeout and the auth header, reads the body's `"status"` as the truth whatever
the HTTP code, raises the typed exception of `messaging.wappin.exceptions`,
and writes one redacted `WappinCallLog` row (never a token, a secret or an
Authorization header). Nothing else in the project imports `requests`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import requests
from requests.adapters import HTTPAdapter

from messaging.models import WappinCallLog
from messaging.wappin.exceptions import (
    WappinAuthError,
    WappinBadRequest,
    WappinClientProjectInvalid,
    WappinContactInvalid,
    WappinError,
    WappinIPNotAllowed,
    WappinMediaUploadFailed,
    WappinMessageNotFound,
    WappinParamCountMismatch,
    WappinTemplateNotFound,
    WappinTimeout,
    WappinUnavailable,
)
from projects.models import Integration, Project, WappinCredential
from wappin_portal import metrics

logger = logging.getLogger("messaging.wappin")

TOKEN_PATH = "/v1/token/get"
SEND_HSM_PATH = "/v1/message/do-send-hsm"
SEND_HSM_MEDIA_PATH = "/v1/message/do-send-hsm-with-media"
SEND_TEXT_PATH = "/v1/message/do-send"
SEND_MEDIA_PATH = "/v1/message/do-send-media"
INQUIRY_PATH = "/v1/message/inquiry"
SEND_PATHS = frozenset({SEND_HSM_PATH, SEND_HSM_MEDIA_PATH, SEND_TEXT_PATH, SEND_MEDIA_PATH})

TOKEN_EXPIRY_FORMAT = "%Y-%m-%d %H:%M:%S"
# The document: "Key/Token have 1 week active periode". Used when an answer has no expiry.
TOKEN_LIFETIME = timedelta(days=7)
# Wappin answers "Token not expired" (with the same token) until the token runs
# out, so inside the refresh margin every call would ask again. Once Wappin has
# said so, this process trusts the token for this long (while it has not expired).
TOKEN_NOT_EXPIRED_TRUST_SECONDS = 300
REAL_WAPPIN_DOMAIN = "wappin.id"


@dataclass(frozen=True)
class MediaUpload:
    """A file to send: its name (the extension matters to Wappin), bytes and MIME type."""

    filename: str
    content: bytes = field(repr=False)
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class SendResult:
    """Wappin accepted a message: its id (as in callbacks and inquiries) and the whole answer."""

    message_id: str
    raw: dict


@dataclass(frozen=True)
class StatusStep:
    """One step of an inquiry timeline: Wappin's word ("sent", "delivered", ...) and when."""

    status: str
    occurred_at: datetime


# -- the HTTP session: one pooled keep-alive session per process -------------------------

_session: requests.Session | None = None
_session_pid: int | None = None
_session_lock = threading.Lock()


def _session_get() -> requests.Session:
    """The process's session; a forked worker makes its own (sockets must not be shared)."""
    global _session, _session_pid
    pid = os.getpid()
    if _session is None or _session_pid != pid:
        with _session_lock:
            if _session is None or _session_pid != pid:
                session = requests.Session()
                # No automatic retries: a resent send could duplicate a message; callers decide.
                adapter = HTTPAdapter(
                    pool_connections=4,
                    pool_maxsize=max(32, settings.SEND_CONCURRENCY),
                    max_retries=0,
                )
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                session.headers.update(
                    {"Accept": "application/json", "User-Agent": "wappin-portal"}
                )
                _session, _session_pid = session, pid
    return _session


def _token_confirmation_key(credential_id: int) -> str:
    return f"wappin:client-token-not-expired:{credential_id}"


def _token_fingerprint(token: str) -> str:
    # The shared cache holds a hash, never the token itself.
    return hashlib.sha256(token.encode()).hexdigest()


def token_confirmation_forget(credential_id: int) -> None:
    cache.delete(_token_confirmation_key(credential_id))


def _status_label(http_status: int | None, wappin_status: str, error) -> str:
    """The metrics' status of a call: Wappin's body status, else what happened instead."""
    if wappin_status:
        return wappin_status
    if http_status is not None:
        return f"http_{http_status}"
    if isinstance(error, WappinTimeout):
        return "timeout"
    return "unreachable"


def token_expiry_parse(value: Any) -> datetime | None:
    """Wappin's `expired_datetime` ("YYYY-MM-DD HH:MM:SS", no zone) as an aware UTC datetime.

    The document gives no time zone; `settings.WAPPIN_TOKEN_TIMEZONE` says which one we assume.
    """
    if not value:
        return None
    zone = ZoneInfo(settings.WAPPIN_TOKEN_TIMEZONE)
    try:
        local = datetime.strptime(str(value).strip(), TOKEN_EXPIRY_FORMAT).replace(tzinfo=zone)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _timestamp_parse(value: Any) -> datetime:
    """An inquiry timestamp ("1557395033", Unix seconds; milliseconds tolerated) as aware UTC."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return timezone.now()
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


class WappinClient:
    """Wappin's API for one integration (its project's client id and project id, its secret key)."""

    def __init__(
        self, integration: Integration, *, token: str | None = None, call_log: deque | None = None
    ) -> None:
        """`token`: a token the caller already holds and refreshes itself (the sending engine's
        threads must not touch the database); a 401 is then raised, not refreshed here.
        `call_log`: collect the call-log rows, unsaved, for the caller to write in bulk."""
        self.integration = integration
        self.project = integration.project
        self.held_token = token
        self.call_log = call_log

    # -- sends ---------------------------------------------------------------------------

    def send_hsm(
        self,
        *,
        recipient_number: str,
        template_name: str,
        language_code: str = "",
        params: dict[str, str],
        header_param: str | None = None,
        button_url: str | None = None,
        reply_payloads: dict[str, str] | None = None,
        message=None,
    ) -> SendResult:
        """Send an approved template (`/v1/message/do-send-hsm`, JSON)."""
        body: dict[str, Any] = {
            **self._ids(),
            "type": template_name,
            "recipient_number": recipient_number,
            "params": {str(key): str(value) for key, value in (params or {}).items()},
        }
        if language_code:
            body["language_code"] = language_code
        button = self._button(button_url=button_url, reply_payloads=reply_payloads)
        if button:
            body["button"] = button
        if header_param is not None:
            body["header"] = {"param": header_param}
        answer = self._bearer_call(
            SEND_HSM_PATH,
            json_body=body,
            message=message,
            about={
                "recipient": recipient_number,
                "template": template_name,
                "language": language_code,
            },
        )
        return self._send_result(answer)

    def send_hsm_with_media(
        self,
        *,
        recipient_number: str,
        template_name: str,
        language_code: str = "",
        params: dict[str, str],
        header_param: str | None = None,
        button_url: str | None = None,
        reply_payloads: dict[str, str] | None = None,
        media: MediaUpload,
        message=None,
    ) -> SendResult:
        """Send a template with a media header (`/v1/message/do-send-hsm-with-media`, multipart).

        `params` and `button` travel as JSON strings, as the document's table says.
        """
        form: dict[str, str] = {
            **self._ids(),
            "type": template_name,
            "recipient_number": recipient_number,
            "params": json.dumps({str(key): str(value) for key, value in (params or {}).items()}),
        }
        if language_code:
            form["language_code"] = language_code
        button = self._button(button_url=button_url, reply_payloads=reply_payloads)
        if button:
            form["button"] = json.dumps(button)
        if header_param is not None:
            # The document names "header param" without a multipart spelling; we send
            # the JSON sample's shape as a JSON string, like params and button.
            form["header"] = json.dumps({"param": header_param})
        answer = self._bearer_call(
            SEND_HSM_MEDIA_PATH,
            form=form,
            media=media,
            message=message,
            about={
                "recipient": recipient_number,
                "template": template_name,
                "language": language_code,
                "filename": media.filename,
            },
        )
        return self._send_result(answer)

    def send_text(self, *, recipient_number: str, text: str, message=None) -> SendResult:
        """Send free-form text (`/v1/message/do-send`, JSON); inside the 24-hour window only."""
        body = {**self._ids(), "message_content": text, "recipient_number": recipient_number}
        answer = self._bearer_call(
            SEND_TEXT_PATH, json_body=body, message=message, about={"recipient": recipient_number}
        )
        return self._send_result(answer)

    def send_media(
        self,
        *,
        recipient_number: str,
        media_type: str,
        media: MediaUpload,
        caption: str = "",
        message=None,
    ) -> SendResult:
        """Send an image, document or audio file (`/v1/message/do-send-media`, multipart).

        The document shows a JSON sample, but `media` is a File: only multipart can carry it.
        """
        form = {**self._ids(), "recipient_number": recipient_number, "media_type": media_type}
        # "For media type image and document only."
        if caption and media_type != "audio":
            form["caption"] = caption
        answer = self._bearer_call(
            SEND_MEDIA_PATH,
            form=form,
            media=media,
            message=message,
            about={
                "recipient": recipient_number,
                "media_type": media_type,
                "filename": media.filename,
            },
        )
        return self._send_result(answer)

    # -- inquiry -------------------------------------------------------------------------

    def inquiry(self, *, wappin_message_id: str) -> list[StatusStep]:
        """A message's status timeline as Wappin knows it, oldest first (may be empty)."""
        answer = self._bearer_call(
            INQUIRY_PATH,
            json_body={"message_id": wappin_message_id},
            about={"message_id": wappin_message_id},
        )
        steps = [
            StatusStep(
                status=str(step.get("status", "")).strip().lower(),
                occurred_at=_timestamp_parse(step.get("timestamp")),
            )
            for step in (answer.get("data") or [])
            if isinstance(step, dict) and step.get("status")
        ]
        return sorted(steps, key=lambda step: step.occurred_at)

    # -- token ---------------------------------------------------------------------------

    def token_get(self) -> str:
        """A token that Wappin accepts now, asking for a new one when ours is due.

        The token belongs to the integration's Wappin client (`WappinCredential`), shared by
        every integration of that client id and secret key. One refresh at a time per client,
        in every thread, process and machine: it happens under a row lock on the client's row
        (see `_token_refresh`).
        """
        if self.integration.credential_id is not None:
            credential = self.integration.credential
            if self._token_usable(credential):
                return credential.access_token
            return self._token_refresh(stale_token=credential.access_token)
        return self._token_refresh(stale_token="")

    def token_fetch(self) -> str:
        """Ask Wappin for the client's current token now, whatever ours says: a callback came
        signed with a token we do not know, so another holder of the client's key (or Wappin's
        dashboard) may have replaced it. Wappin answers with its current token."""
        return self._token_refresh(stale_token="", force=True)

    def _token_usable(self, credential: WappinCredential) -> bool:
        if credential.token_is_fresh():
            return True
        # Wappin said "Token not expired" for this very token a moment ago (in any worker:
        # the confirmation lives in the shared cache, so all processes agree).
        confirmed = cache.get(_token_confirmation_key(credential.pk))
        return bool(
            confirmed
            and credential.access_token
            and confirmed == _token_fingerprint(credential.access_token)
            and credential.token_expires_at
            and credential.token_expires_at > timezone.now()
        )

    def _credential_id(self) -> int:
        """The row of the integration's Wappin client, checked against its client id and secret
        key (saved when they no longer match, e.g. a project saved without `project_save`)."""
        integration = self.integration
        if not self.project.client_id or not integration.secret_key:
            raise WappinAuthError(
                f"The {integration.get_kind_display()} integration of {self.project} has no "
                "client ID or secret key: fill them in from Wappin's dashboard.",
                code="wappin_credentials_missing",
            )
        if integration.credential_sync():
            integration.save(update_fields=["credential", "updated_at"])
        return integration.credential_id

    def _token_refresh(self, *, stale_token: str, force: bool = False) -> str:
        """Ask Wappin for a token, unless another caller already replaced `stale_token`
        (`force`: ask anyway).

        `select_for_update()` inside `atomic()` makes concurrent callers queue on the
        client's row (PostgreSQL); on SQLite the IMMEDIATE transaction takes the
        database's write lock, which serialises them the same way. Whoever comes second
        re-reads the row and uses the token the first one stored.
        """
        credential_id = self._credential_id()
        failure: WappinError | None = None
        with transaction.atomic():
            locked = WappinCredential.objects.select_for_update().get(pk=credential_id)
            if (
                not force
                and locked.access_token
                and locked.access_token != stale_token
                and self._token_usable(locked)
            ):
                token = locked.access_token
            else:
                try:
                    answer = self._request(TOKEN_PATH, auth=self._basic_auth(), about={})
                    token = self._token_store(locked, answer)
                except WappinError as exc:
                    # Leave the block normally so the call-log row of the failure is committed.
                    failure = exc
        if failure is not None:
            raise failure
        self.integration.credential = locked
        return token

    def _token_store(self, locked: WappinCredential, answer: dict) -> str:
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        token = str(data.get("access_token") or "")
        not_expired = "not expired" in str(answer.get("message", "")).lower()
        if not token:
            if not_expired and locked.access_token:
                token = locked.access_token
            else:
                raise WappinAuthError(
                    "Wappin answered the token request without a token; regenerate the token in "
                    "Wappin's dashboard and try again.",
                    wappin_status=str(answer.get("status", "")),
                    code="wappin_token_missing",
                )
        expires_at = token_expiry_parse(data.get("expired_datetime"))
        if expires_at is None:
            logger.warning(
                "Wappin's token answer has no readable expired_datetime; assuming one week."
            )
            expires_at = timezone.now() + TOKEN_LIFETIME
        fields = ["access_token", "token_expires_at", "updated_at"]
        if token != locked.access_token:
            # Callbacks may still carry the old token while Wappin switches over.
            if locked.access_token:
                locked.previous_access_token = locked.access_token
                fields.append("previous_access_token")
            locked.access_token = token
        locked.token_expires_at = expires_at
        # Its receivers drop the cached integrations of every integration of the client.
        locked.save(update_fields=fields)
        if not_expired:
            cache.set(
                _token_confirmation_key(locked.pk),
                _token_fingerprint(token),
                TOKEN_NOT_EXPIRED_TRUST_SECONDS,
            )
        else:
            token_confirmation_forget(locked.pk)
        return token

    def _basic_auth(self) -> str:
        pair = f"{self.project.client_id}:{self.integration.secret_key}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    # -- the one request path ------------------------------------------------------------

    def _bearer_call(
        self,
        path: str,
        *,
        json_body: dict | None = None,
        form: dict | None = None,
        media: MediaUpload | None = None,
        message=None,
        about: dict,
    ) -> dict:
        """A Bearer call; on "401 Invalid credential" refresh the token once and resend once."""
        token = self.held_token or self.token_get()
        kwargs = {
            "json_body": json_body,
            "form": form,
            "media": media,
            "message": message,
            "about": about,
        }
        try:
            return self._request(path, auth=f"Bearer {token}", **kwargs)
        except WappinAuthError as exc:
            if exc.wappin_status != "401" or self.held_token:
                raise
            logger.info(
                "Wappin refused the token of integration %s; refreshing once.", self.integration.pk
            )
        token = self._token_refresh(stale_token=token)
        try:
            return self._request(path, auth=f"Bearer {token}", **kwargs)
        except WappinAuthError as exc:
            if exc.wappin_status == "401":
                exc.message = (
                    "Wappin refused the access token even after a fresh one was fetched (401 Invalid "
                    "credential): regenerate the token in Wappin's dashboard or check the secret key."
                )
                exc.args = (exc.message,)
            raise

    def _request(
        self,
        path: str,
        *,
        auth: str,
        json_body: dict | None = None,
        form: dict | None = None,
        media: MediaUpload | None = None,
        message=None,
        about: dict,
    ) -> dict:
        """POST to Wappin, log the call (redacted), and return the body of a "200" answer."""
        base_url, host = _base_url()
        started = time.monotonic()
        http_status, answer, error = self._post(
            base_url + path, host=host, path=path, kwargs=_post_kwargs(auth, json_body, form, media)
        )
        wappin_status = str(answer.get("status", "")).strip()
        if error is None and wappin_status != "200":
            error = self._error_for(path, http_status, wappin_status, answer, about)
        seconds = time.monotonic() - started
        latency_ms = int(seconds * 1000)
        metrics.wappin_call_observe(
            endpoint=path, status=_status_label(http_status, wappin_status, error), seconds=seconds
        )
        if path == TOKEN_PATH:
            metrics.token_refresh_count(ok=error is None)

        error_text = _redact(error.message, self._secrets(auth)) if error else ""
        self._log_write(
            path=path,
            http_status=http_status,
            wappin_status=wappin_status,
            latency_ms=latency_ms,
            error=error_text,
            message=message,
        )
        if error is not None:
            logger.warning(
                "Wappin %s failed for integration %s: %s (http %s, status %s, %d ms)",
                path,
                self.integration.pk,
                error_text,
                http_status,
                wappin_status or "-",
                latency_ms,
            )
            raise error
        logger.debug(
            "Wappin %s ok for integration %s in %d ms", path, self.integration.pk, latency_ms
        )
        return answer

    @staticmethod
    def _post(
        url: str, *, host: str, path: str, kwargs: dict
    ) -> tuple[int | None, dict, WappinError | None]:
        """The HTTP call: (HTTP status, the body as a dict, the error when nothing readable came back)."""
        try:
            response = _session_get().post(url, **kwargs)
        except requests.exceptions.ConnectTimeout:
            return (
                None,
                {},
                WappinUnavailable(
                    _(
                        "Wappin could not be reached at %(host)s in %(seconds)s seconds; "
                        "nothing was sent. It will be tried again."
                    )
                    % {"host": host, "seconds": f"{settings.WAPPIN_TIMEOUT_SECONDS:g}"},
                    code="wappin_unreachable",
                ),
            )
        except requests.exceptions.Timeout:
            return (
                None,
                {},
                WappinTimeout(
                    (
                        _(
                            "Wappin did not answer within %(seconds)s seconds; "
                            "it may or may not have taken the message."
                        )
                        if path in SEND_PATHS
                        else _("Wappin did not answer within %(seconds)s seconds.")
                    )
                    % {"seconds": f"{settings.WAPPIN_TIMEOUT_SECONDS:g}"}
                ),
            )
        except requests.exceptions.RequestException as exc:
            return (
                None,
                {},
                WappinUnavailable(
                    _(
                        "Wappin could not be reached at %(host)s (%(error)s); nothing was sent. "
                        "It will be tried again."
                    )
                    % {"host": host, "error": type(exc).__name__},
                    code="wappin_unreachable",
                ),
            )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response.status_code, answer if isinstance(answer, dict) else {}, None

    def _secrets(self, auth: str) -> list[str]:
        """What must never reach the call log: the header sent and every key the integration holds."""
        integration = self.integration
        credential = integration.credential if integration.credential_id else None
        return [
            auth,
            auth.split(" ", 1)[-1],
            integration.secret_key,
            integration.client_key,
            credential.access_token if credential else "",
            credential.previous_access_token if credential else "",
        ]

    def _log_write(self, *, path, http_status, wappin_status, latency_ms, error, message) -> None:
        row = WappinCallLog(
            integration_id=self.integration.pk,
            message_id=getattr(message, "pk", None),
            endpoint=path,
            http_status=http_status,
            wappin_status=wappin_status[:10],
            latency_ms=latency_ms,
            error=error[:500],
        )
        if self.call_log is not None:
            self.call_log.append(row)
            return
        try:
            row.save()
        except Exception:  # the log must never hide the call's own outcome
            logger.exception("Could not write the Wappin call log for %s", path)

    def _error_for(
        self, path: str, http_status: int, wappin_status: str, answer: dict, about: dict
    ) -> WappinError:
        """The typed exception, with a message a person understands, for a non-"200" answer."""
        if not wappin_status:
            return WappinUnavailable(
                _(
                    "Wappin answered HTTP %(status)s without a readable status; it will be tried again."
                )
                % {"status": http_status},
                code="wappin_bad_answer",
            )
        refusal = _Refusal(
            path=path,
            status=wappin_status,
            said=str(answer.get("message") or "").strip(),
            about=about,
            project=self.project,
        )
        build = _ERROR_BY_STATUS.get(wappin_status)
        error = build(refusal) if build else None
        if error is not None:
            return error
        if wappin_status.startswith("5"):
            return WappinUnavailable(
                _("Wappin had a server error (%(status)s); it will be tried again.")
                % {"status": wappin_status + refusal.quoted},
                wappin_status=wappin_status,
            )
        return WappinError(
            _("Wappin answered an unexpected status %(status)s.")
            % {"status": wappin_status + refusal.quoted},
            wappin_status=wappin_status,
            code="wappin_unexpected_status",
        )

    # -- small pieces --------------------------------------------------------------------

    def _ids(self) -> dict[str, str]:
        return {"client_id": self.project.client_id, "project_id": self.project.wappin_project_id}

    @staticmethod
    def _button(*, button_url: str | None, reply_payloads: dict[str, str] | None) -> dict:
        button: dict[str, Any] = {}
        if button_url:
            button["url"] = button_url
        if reply_payloads:
            button["reply_payload"] = {
                str(key): str(value) for key, value in reply_payloads.items()
            }
        return button

    @staticmethod
    def _send_result(answer: dict) -> SendResult:
        message_id = str(answer.get("message_id") or "")
        if not message_id:
            # Accepted without an id: nothing to follow it by. Retrying could duplicate it.
            raise WappinError(
                _("Wappin accepted the message but gave no message id."),
                wappin_status=str(answer.get("status", "")),
                code="wappin_no_message_id",
            )
        return SendResult(message_id=message_id, raw=answer)


def _base_url() -> tuple[str, str]:
    """Wappin's base URL and host; the real Wappin is refused where WAPPIN_FORBID_REAL_API is on."""
    base_url = settings.WAPPIN_BASE_URL.rstrip("/")
    host = (urlsplit(base_url).hostname or "").lower()
    if settings.WAPPIN_FORBID_REAL_API and (
        host == REAL_WAPPIN_DOMAIN or host.endswith("." + REAL_WAPPIN_DOMAIN)
    ):
        raise ImproperlyConfigured(
            f"WAPPIN_FORBID_REAL_API is on and WAPPIN_BASE_URL points at {host}: use the sandbox."
        )
    return base_url, host


def _post_kwargs(
    auth: str, json_body: dict | None, form: dict | None, media: MediaUpload | None
) -> dict[str, Any]:
    """The auth header, the timeout and the body: a file upload, JSON, or none (the token call)."""
    headers = {"Authorization": auth}
    kwargs: dict[str, Any] = {"headers": headers, "timeout": settings.WAPPIN_TIMEOUT_SECONDS}
    if media is not None:
        kwargs["data"] = form or {}
        kwargs["files"] = {"media": (media.filename, media.content, media.content_type)}
    elif json_body is not None:
        kwargs["json"] = json_body
    else:
        # The token call: the document wants the JSON content type, and no body.
        headers["Content-Type"] = "application/json"
    return kwargs


# --- Wappin's refusals: one function per status, chosen from `_ERROR_BY_STATUS` ---------


@dataclass(frozen=True)
class _Refusal:
    """A non-"200" answer and what the call was about, for the error's message."""

    path: str
    status: str
    said: str  # Wappin's own "message", if any
    about: dict
    project: Project

    @property
    def quoted(self) -> str:
        return f' ("{self.said}")' if self.said else ""

    @property
    def template(self) -> str:
        return self.about.get("template", "")

    @property
    def language(self) -> str:
        return self.about.get("language") or _("its first language")


def _error_400(refusal: _Refusal) -> WappinError:
    lowered = refusal.said.lower()
    if "param" in lowered:
        return WappinParamCountMismatch(
            _(
                "Wappin says the parameters do not match template '%(template)s' (%(language)s): "
                "the number of values differs from the template approved on Wappin (400)."
            )
            % {"template": refusal.template, "language": refusal.language},
            wappin_status="400",
            field="params",
        )
    if "project" in lowered or "client" in lowered:
        project = refusal.project
        return WappinClientProjectInvalid(
            _(
                "Wappin does not accept client ID %(client_id)s with project ID "
                "%(project_id)s (%(status)s): check the project's Wappin ids."
            )
            % {
                "client_id": project.client_id,
                "project_id": project.wappin_project_id,
                "status": "400" + refusal.quoted,
            },
            wappin_status="400",
        )
    return WappinBadRequest(
        _(
            "Wappin received no usable input (%(status)s): "
            "a required field was missing or malformed."
        )
        % {"status": "400" + refusal.quoted},
        wappin_status="400",
    )


def _error_401(refusal: _Refusal) -> WappinError:
    if refusal.path == TOKEN_PATH:
        message = _(
            "Wappin refused client ID %(client_id)s with the stored secret key "
            "(401 Invalid credential): check both in Wappin's dashboard."
        ) % {"client_id": refusal.project.client_id}
    else:
        message = _("Wappin refused the access token (401 Invalid credential).")
    return WappinAuthError(message, wappin_status="401")


def _error_406(refusal: _Refusal) -> WappinError:
    return WappinAuthError(
        _("Wappin did not recognise the authorization header (406 Auth not recognize)."),
        wappin_status="406",
        code="wappin_auth_not_recognized",
    )


def _error_407(refusal: _Refusal) -> WappinError:
    return WappinIPNotAllowed(
        _(
            "Wappin refused the call: this server's IP address is not on the integration's IP "
            "whitelist in Wappin's dashboard (407 IP Address not allowed)."
        ),
        wappin_status="407",
    )


def _error_404(refusal: _Refusal) -> WappinError | None:
    """404 means "no such message" to the inquiry and "no such template" to a send; else unexpected."""
    if refusal.path == INQUIRY_PATH:
        return WappinMessageNotFound(
            _("Wappin has no message %(message_id)s (404 Data not Found).")
            % {"message_id": refusal.about.get("message_id", "")},
            wappin_status="404",
            field="message_id",
        )
    if refusal.path in SEND_PATHS:
        return WappinTemplateNotFound(
            _(
                "Wappin has no active, approved template '%(template)s' in %(language)s "
                "(404 Template not found or inactive)."
            )
            % {"template": refusal.template, "language": refusal.language},
            wappin_status="404",
            field="type",
        )
    return None


def _error_601(refusal: _Refusal) -> WappinError:
    return WappinContactInvalid(
        _("Wappin refused the number %(number)s: it is not on WhatsApp (601).")
        % {"number": refusal.about.get("recipient", "")},
        wappin_status="601",
        field="recipient_number",
    )


def _error_605(refusal: _Refusal) -> WappinError:
    filename = refusal.about.get("filename") or _("the file")
    kind = refusal.about.get("media_type")
    message = (
        _(
            "Wappin could not take %(filename)s as %(kind)s (605 Upload Media Failed): "
            "check the file type and size."
        )
        if kind
        else _(
            "Wappin could not take %(filename)s (605 Upload Media Failed): "
            "check the file type and size."
        )
    )
    return WappinMediaUploadFailed(
        message % {"filename": filename, "kind": kind},
        wappin_status="605",
        field="media",
    )


_ERROR_BY_STATUS: dict[str, Callable[[_Refusal], WappinError | None]] = {
    "400": _error_400,
    "401": _error_401,
    "404": _error_404,
    "406": _error_406,
    "407": _error_407,
    "601": _error_601,
    "605": _error_605,
}


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    return text
