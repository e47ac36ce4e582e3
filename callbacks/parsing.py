"""Reading a Wappin callback body: the one place that knows its spellings.

Wappin's document disagrees with itself (section 6): the table says
`status_message`, `project_id`, `enviromtent`; the samples send
`status_messages`, `project id`, `environment`. Every spelling is accepted
here, and the rest of the code sees one `ParsedCallback`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from wappin_portal.errors import ValidationFailed
from wappin_portal.phone import phone_normalize

# Wappin is Indonesian: a sender written with a trunk 0 is an Indonesian number.
WAPPIN_HOME_REGION = "ID"

CALLBACK_TYPES = ("status", "message")

_SPELLINGS = {
    "status_value": ("status_messages", "status_message"),
    "project_id": ("project_id", "project id", "projectid", "project-id"),
    "environment": ("environment", "enviromtent"),
}
# A timestamp outside these years is junk: the time of receipt is used instead.
TIMESTAMP_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
TIMESTAMP_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Wappin fills unused fields with "-".
_EMPTY = ("", "-")


class CallbackMalformed(ValidationFailed):
    """A body we cannot use; `code` is the verdict (malformed or unknown_type)."""

    def __init__(self, message: str, *, code: str = "malformed") -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True)
class ParsedCallback:
    callback_type: str
    message_id: str
    status_value: str  # Wappin's word, lower case; "" for a message callback
    sender_number: str  # normalised 628...; "" when absent on a status callback
    message_content: str
    project_id: str
    client_id: str
    environment: str
    occurred_at: datetime | None  # from `timestamp`; None when absent or unreadable

    @property
    def dedupe_key_part(self) -> str:
        """What makes two deliveries the same callback: type, message id (and status)."""
        if self.callback_type == "status":
            return f"status:{self.message_id}:{self.status_value}"
        return f"message:{self.message_id}"


def storable_text(text: str) -> str:
    """Text a database can keep: a lone surrogate (a JSON `\\ud800` escape) and NUL become U+FFFD.

    JSON allows both; UTF-8 cannot encode the first and PostgreSQL refuses the second.
    """
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "\ufffd")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return storable_text(str(value)).strip()


def _first(data: dict, names: tuple[str, ...]) -> str:
    for name in names:
        value = _text(data.get(name))
        if value not in _EMPTY:
            return value
    return ""


def timestamp_parse(value) -> datetime | None:
    """Wappin's `timestamp`: epoch seconds, as a string or a number (milliseconds tolerated).

    A "YYYY-MM-DD HH:MM:SS" text is read in Wappin's timezone. Anything else is None:
    the caller falls back to the time we received the callback.
    """
    text = _text(value)
    if text in _EMPTY:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - zone set below
        except ValueError:
            return None
        moment = naive.replace(tzinfo=ZoneInfo(settings.WAPPIN_TOKEN_TIMEZONE))
        return moment if _plausible(moment) else None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if _plausible(moment) else None


def _plausible(moment: datetime) -> bool:
    """A time a callback can be about; year 1 or 9999 cannot be stored or shown in every timezone."""
    return TIMESTAMP_EARLIEST <= moment <= TIMESTAMP_LATEST


def callback_parse(raw: bytes | str) -> ParsedCallback:
    """Parse and check a callback body, or raise CallbackMalformed with a reason a person can read."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CallbackMalformed("The body is not UTF-8 text.") from exc
    if not raw.strip():
        raise CallbackMalformed("The body is empty; a JSON object was expected.")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CallbackMalformed(
            f"The body is not valid JSON ({exc.msg} at position {exc.pos})."
        ) from exc
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise CallbackMalformed(f"The body is not usable JSON ({str(exc)[:120]}).") from exc
    except RecursionError as exc:
        raise CallbackMalformed("The body is JSON nested too deeply.") from exc
    if not isinstance(data, dict):
        raise CallbackMalformed("The body is JSON but not an object.")

    callback_type = _text(data.get("callback_type")).lower()
    if not callback_type:
        raise CallbackMalformed("The body has no callback_type.")
    if callback_type not in CALLBACK_TYPES:
        raise CallbackMalformed(
            f"Unknown callback_type '{callback_type[:40]}': expected 'status' or 'message'.",
            code="unknown_type",
        )
    message_id = _text(data.get("message_id"))
    if message_id in _EMPTY:
        raise CallbackMalformed("The body has no message_id.")
    if len(message_id) > 64:
        raise CallbackMalformed("The message_id is longer than 64 characters.")

    status_value = _first(data, _SPELLINGS["status_value"]).lower()
    if callback_type == "status" and not status_value:
        raise CallbackMalformed("A status callback without status_messages (or status_message).")
    if len(status_value) > 50:
        raise CallbackMalformed("The status is longer than 50 characters.")

    raw_sender = _text(data.get("sender_number"))
    sender_number = ""
    if raw_sender not in _EMPTY:
        try:
            # A WhatsApp id carries its country code (`6591234567`: never re-read as Indonesian);
            # Wappin's own examples also write Indonesian numbers nationally (`0823...`).
            national = raw_sender.startswith("0") and not raw_sender.startswith("00")
            sender_number = phone_normalize(
                raw_sender, field="sender_number", region=WAPPIN_HOME_REGION if national else None
            )
        except ValidationFailed as exc:
            # A status callback's sender is only informative; a message callback needs it.
            if callback_type == "message":
                raise CallbackMalformed(f"sender_number: {exc.message}") from exc
    if callback_type == "message" and not sender_number:
        raise CallbackMalformed("A message callback without sender_number.")

    content = data.get("message_content")
    message_content = "" if content is None else storable_text(str(content))
    return ParsedCallback(
        callback_type=callback_type,
        message_id=message_id,
        status_value="" if callback_type == "message" else status_value,
        sender_number=sender_number,
        message_content=message_content,
        project_id=_first(data, _SPELLINGS["project_id"]),
        client_id=_text(data.get("client_id")),
        environment=_first(data, _SPELLINGS["environment"]),
        occurred_at=timestamp_parse(data.get("timestamp")),
    )
