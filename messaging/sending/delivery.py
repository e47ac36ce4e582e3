"""Delivering: the worker's side of a queued message, and settling the ones whose outcome is unknown.

`message_deliver` is the body of the `message_send` task: it hands one queued
row to Wappin. `message_settle` and `messages_settle_unknown` look again at a
message whose send answer never came; `message_refresh_status` asks Wappin's
inquiry API for a message's timeline. Each step lands on the timeline through
`services.message_status_record`.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from messaging.models import Message, MessageStatusEvent
from messaging.sending.services import WAPPIN_STATUS_MAP, integration_pick, message_status_record
from messaging.wappin import MediaUpload, SendResult, WappinClient
from messaging.wappin.exceptions import WappinError, WappinTimeout
from projects.models import Integration
from wappin_portal.errors import Conflict

logger = logging.getLogger(__name__)


# How long an `unknown` message without a Wappin id waits for a callback before
# we give up on it (see message_settle).
UNKNOWN_GIVE_UP_AFTER = timezone.timedelta(minutes=15)
UNKNOWN_GIVE_UP_REASON = "Wappin did not answer; the message may or may not have been sent."
# A queued message the broker never ran (lost enqueue, broker down) is enqueued again after this.
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
        return client.send_text(recipient_number=message.phone_number, text=message.text, message=message)
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


def message_deliver(*, message_id: int, attempt: int = 0) -> Message:
    """Hand one queued message to Wappin: the body of the `message_send` task.

    Each attempt first claims the row (status still `queued` and `send_attempts`
    equal to `attempt`), so a task the broker delivers twice cannot send twice.

    Outcomes:
    - Wappin answers 200: we keep its message id and record `sent` (source
      `send_answer`). Why `sent` and not wait for the callback: `queued` must keep
      meaning "not handed to Wappin yet" (the sweep re-enqueues stale queued rows,
      and a row Wappin holds must never look resendable); from the 200 on,
      delivery is Wappin's job, which is what our users read as "sent". Wappin's
      own `sent` callback is still kept as its own timeline step.
    - A non-retryable Wappin error (bad template, contact invalid, auth...): the
      row is failed with Wappin's status code and the error's message.
    - A read timeout: Wappin may or may not have it, and sending again could
      reach the customer twice. The row becomes `unknown`, and `message_settle`
      looks at it a minute later and every few minutes after (see there).
    - A retryable error (network, 5xx): raised for the task to retry with backoff.
    """
    from messaging.sending import tasks  # the tasks module imports this one

    message = Message.objects.select_related("project", "integration").get(pk=message_id)
    claimed = Message.objects.filter(
        pk=message.pk, status=Message.Status.QUEUED, send_attempts=attempt
    ).update(send_attempts=attempt + 1, updated_at=timezone.now())
    if not claimed:
        logger.info("message %s: attempt %s already claimed or message not queued; not sending", message.pk, attempt)
        return message
    message.send_attempts = attempt + 1
    try:
        integration = message.integration or integration_pick(
            project=message.project,
            kind=Integration.Kind.NOTIFICATION
            if message.kind in (Message.Kind.HSM, Message.Kind.HSM_MEDIA)
            else Integration.Kind.CHATBOT,
        )
    except Conflict as exc:  # the integration was removed while the message waited
        return message_send_give_up(message_id=message.pk, reason=exc.message, failure_code=exc.code)
    client = WappinClient(integration)
    try:
        # The token first, on its own: a timeout there sent nothing and is simply
        # retried; only a timeout of the send call itself leaves the outcome unknown.
        client.token_get()
    except WappinError as exc:
        if exc.retryable:
            raise
        return _message_fail_on_answer(message=message, error=exc)
    try:
        result = _wappin_call(client=client, message=message)
    except WappinTimeout as exc:
        message, _ = message_status_record(
            message_id=message.pk,
            status=Message.Status.UNKNOWN,
            source=MessageStatusEvent.Source.SEND_ANSWER,
            detail=f"Wappin did not answer in time ({exc.message}); checking later instead of resending.",
        )
        tasks.message_settle.apply_async_on_commit((message.pk,), countdown=tasks.SETTLE_FIRST_LOOK_SECONDS)
        return message
    except WappinError as exc:
        if exc.retryable:
            raise
        return _message_fail_on_answer(message=message, error=exc)
    Message.objects.filter(pk=message.pk).update(wappin_message_id=result.message_id)
    message, _ = message_status_record(
        message_id=message.pk,
        status=Message.Status.SENT,
        source=MessageStatusEvent.Source.SEND_ANSWER,
        detail=f"Accepted by Wappin as {result.message_id}.",
    )
    return message


def _message_fail_on_answer(*, message: Message, error: WappinError) -> Message:
    """Wappin refused the message for good: failed, with Wappin's status code and the reason."""
    message, _ = message_status_record(
        message_id=message.pk,
        status=Message.Status.FAILED,
        source=MessageStatusEvent.Source.SEND_ANSWER,
        detail=error.message,
        failure_code=error.wappin_status or error.code,
    )
    return message


def message_send_give_up(*, message_id: int, reason: str, failure_code: str = "") -> Message:
    """The last retry failed too: the message is failed with a reason a person can read."""
    message, _ = message_status_record(
        message_id=message_id,
        status=Message.Status.FAILED,
        source=MessageStatusEvent.Source.PORTAL,
        detail=reason,
        failure_code=failure_code,
    )
    return message


def message_refresh_status(*, message_id: int) -> Message:
    """Ask Wappin's inquiry API for the message's timeline and record each step (source `inquiry`)."""
    message = Message.objects.select_related("project", "integration").get(pk=message_id)
    if not message.wappin_message_id:
        raise Conflict(
            "Wappin has not given this message an id yet, so there is no status to ask for.",
            code="message_not_accepted",
        )
    integration = message.integration or integration_pick(
        project=message.project, kind=Integration.Kind.NOTIFICATION
    )
    steps = WappinClient(integration).inquiry(wappin_message_id=message.wappin_message_id)
    for step in steps:
        status = WAPPIN_STATUS_MAP.get(str(step.status).lower(), str(step.status).lower())
        message, _ = message_status_record(
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
    - `queued` with a claimed attempt but no answer for that long (the worker
      died during the call): the same as `unknown` without an id.
    - `queued` and never tried (the enqueue was lost): enqueued again.
    """
    from messaging.sending import tasks  # the tasks module imports this one

    now = now or timezone.now()
    message = Message.objects.get(pk=message_id)
    if message.status not in (Message.Status.UNKNOWN, Message.Status.QUEUED):
        return message
    if message.wappin_message_id:
        return message_refresh_status(message_id=message.pk)
    age = now - message.updated_at
    if message.status == Message.Status.QUEUED and message.send_attempts == 0:
        if age >= QUEUED_STALE_AFTER:
            tasks.message_send.delay_on_commit(message.pk)
        return message
    if age >= UNKNOWN_GIVE_UP_AFTER:
        message, _ = message_status_record(
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
