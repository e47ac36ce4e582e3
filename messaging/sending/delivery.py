"""Delivering: the worker's side of a queued message, and settling the ones whose outcome is unknown.

The sending engine (`engine.py`) hands queued rows to Wappin through
`_wappin_call`. `message_settle` and `messages_settle_unknown` look again at a
message whose send answer never came; `message_refresh_status` asks Wappin's
inquiry API for a message's timeline. Each step lands on the timeline through
`services.message_status_record`.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import Message, MessageStatusEvent
from messaging.sending.services import WAPPIN_STATUS_MAP, integration_pick, message_status_record
from messaging.wappin import MediaUpload, SendResult, WappinClient
from projects.models import ApiKey, Integration
from projects.roles import capability_require
from wappin_portal.errors import Conflict

logger = logging.getLogger(__name__)


# How long an `unknown` message without a Wappin id waits for a callback before
# we give up on it (see message_settle).
UNKNOWN_GIVE_UP_AFTER = timezone.timedelta(minutes=15)
UNKNOWN_GIVE_UP_REASON = "Wappin did not answer; the message may or may not have been sent."
# A queued message nobody sent (a lost wake, broker down) wakes the engine again after this.
QUEUED_STALE_AFTER = timezone.timedelta(minutes=10)


def _media_upload(message: Message) -> MediaUpload:
    filename = os.path.basename(message.media.name)
    with message.media.open("rb") as handle:
        content = handle.read()
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return MediaUpload(filename=filename, content=content, content_type=content_type)


def _wappin_call(*, client: WappinClient, message: Message) -> SendResult:
    """The one Wappin call that sends `message`, by its kind."""
    if message.kind == Message.Kind.TEXT:
        return client.send_text(
            recipient_number=message.phone_number, text=message.text, message=message
        )
    if message.kind == Message.Kind.MEDIA:
        return client.send_media(
            recipient_number=message.phone_number,
            media_type=message.media_type,
            media=_media_upload(message),
            caption=message.caption,
            message=message,
        )
    hsm = {
        "recipient_number": message.phone_number,
        "template_name": message.template_name,
        "language_code": message.language_code,
        "params": message.params,
        "header_param": message.header_param or None,
        "button_url": message.button_url or None,
        "reply_payloads": message.reply_payloads or None,
        "message": message,
    }
    if message.kind == Message.Kind.HSM_MEDIA:
        return client.send_hsm_with_media(**hsm, media=_media_upload(message))
    return client.send_hsm(**hsm)


def message_settle_later(message_id: int) -> None:
    """A first look at a message whose send timed out, a minute after the transaction commits."""
    from messaging.sending.tasks import SETTLE_FIRST_LOOK_SECONDS, message_settle

    message_settle.apply_async_on_commit((message_id,), countdown=SETTLE_FIRST_LOOK_SECONDS)


def message_send_give_up(*, message_id: int, reason: str, failure_code: str = "") -> Message:
    """The last retry failed too: the message is failed with a reason a person can read."""
    message, _created = message_status_record(
        message_id=message_id,
        status=Message.Status.FAILED,
        source=MessageStatusEvent.Source.PORTAL,
        detail=reason,
        failure_code=failure_code,
    )
    return message


def message_refresh_status(
    *, message_id: int, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> Message:
    """Ask Wappin's inquiry API for the message's timeline and record each step (source `inquiry`).

    A person or key needs `message.send` on the message's project; None is the portal."""
    message = Message.objects.select_related("project", "integration").get(pk=message_id)
    capability_require(
        project=message.project, capability="message.send", actor=actor, api_key=api_key
    )
    if not message.wappin_message_id and message.status == Message.Status.FAILED:
        # Refused before Wappin accepted it (601 "Contact invalid", ...): its status is final.
        reason = message.failure_reason or message.failure_code or "no reason was recorded"
        raise Conflict(
            _(
                "This message failed before Wappin accepted it (%(reason)s); "
                "there is no status to ask for."
            )
            % {"reason": reason},
            code="message_failed",
        )
    if not message.wappin_message_id:
        raise Conflict(
            _("Wappin has not given this message an id yet, so there is no status to ask for."),
            code="message_not_accepted",
        )
    integration = message.integration or integration_pick(
        project=message.project, kind=Integration.Kind.NOTIFICATION
    )
    steps = WappinClient(integration).inquiry(wappin_message_id=message.wappin_message_id)
    for step in steps:
        status = WAPPIN_STATUS_MAP.get(str(step.status).lower(), str(step.status).lower())
        message, _moved = message_status_record(
            message_id=message.pk,
            status=status,
            source=MessageStatusEvent.Source.INQUIRY,
            occurred_at=step.occurred_at,
        )
    message.refresh_from_db()
    return message


def message_settle(*, message_id: int, now: datetime | None = None) -> Message:
    """Settle a message whose send outcome we do not know.

    - `unknown` with a Wappin id: the inquiry API tells its real timeline.
    - `unknown` without one (the send answer never came; Wappin's callbacks
      may still move it): after UNKNOWN_GIVE_UP_AFTER it is failed with
      UNKNOWN_GIVE_UP_REASON. We never resend it blindly: a customer getting a
      message twice is worse than a person deciding to send it again.
    - `queued` (never tried, or waiting for its next try) for that long: the
      sending engine is woken again (a lost wake).
    """
    from messaging.sending.engine import send_queue_wake_on_commit  # the engine imports this module

    now = now or timezone.now()
    message = Message.objects.get(pk=message_id)
    if message.status not in (Message.Status.UNKNOWN, Message.Status.QUEUED):
        return message
    if message.wappin_message_id:
        return message_refresh_status(message_id=message.pk)
    age = now - message.updated_at
    if message.status == Message.Status.QUEUED:
        if age >= QUEUED_STALE_AFTER and message.integration_id:
            send_queue_wake_on_commit(integration_id=message.integration_id)
        return message
    if age >= UNKNOWN_GIVE_UP_AFTER:
        message, _created = message_status_record(
            message_id=message.pk,
            status=Message.Status.FAILED,
            source=MessageStatusEvent.Source.PORTAL,
            detail=UNKNOWN_GIVE_UP_REASON,
            failure_code="no_answer",
        )
    return message


# At most this many messages per sweep: a stuck blast must not make one sweep run for hours.
SETTLE_BATCH = 500


def messages_settle_unknown() -> int:
    """Settle each message whose outcome we do not know (see message_settle); the number looked at."""
    stale_queued = timezone.now() - QUEUED_STALE_AFTER
    ids = list(
        Message.objects.filter(direction=Message.Direction.OUTGOING)
        .filter(
            Q(status=Message.Status.UNKNOWN)
            | Q(status=Message.Status.QUEUED, updated_at__lt=stale_queued)
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:SETTLE_BATCH]
    )
    for message_id in ids:
        try:
            message_settle(message_id=message_id)
        except Exception:
            # One message Wappin cannot answer about must not stop the others.
            logger.exception("could not settle message %s", message_id)
    return len(ids)
