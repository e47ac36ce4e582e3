"""Sending: the accept path of every outgoing message, its idempotency, and its status timeline.

Sending is an outbox: `message_send_*` check everything a person can fix, write
the Message row (status `queued`) and its first timeline step in one
transaction, and enqueue the Celery task only once that transaction commits.
Nothing here talks to Wappin before the row exists; what happens after (the
task handing the row to Wappin, settling unknown outcomes) is `delivery.py`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.contacts.services import contact_get_or_create, number_opted_out
from messaging.models import (
    Blast,
    Contact,
    IdempotencyRecord,
    Message,
    MessageStatusEvent,
    WappinCallLog,
)
from messaging.webhook_events import message_webhook_event
from projects.models import ApiKey, Integration, Project
from projects.roles import capability_require
from projects.selectors import integration_first_active
from projects.webhooks.services import webhook_events_emit
from templates_app.media import media_check, media_head
from templates_app.models import Template
from templates_app.selectors import template_language_resolve, template_send_params_check
from wappin_portal.db import rows_delete, rows_update
from wappin_portal.errors import ApplicationError, Conflict, ValidationFailed
from wappin_portal.logs import request_id_var
from wappin_portal.phone import phone_normalize

# WhatsApp's limit for a free-form text message.
TEXT_MAX_LENGTH = 4096
# Wappin: "caption: for media type image and document only".
CAPTION_MEDIA_TYPES = (Message.MediaType.IMAGE, Message.MediaType.DOCUMENT)
# The longest caption the message row holds (WhatsApp's own limit is 1024 too).
CAPTION_MAX_LENGTH = Message._meta.get_field("caption").max_length
# The longest value of one template param or quick-reply payload (a template body is at most 1024).
PARAM_MAX_LENGTH = 1024

# Wappin's words for a message's state, mapped to ours: the one place they are read.
WAPPIN_STATUS_MAP: dict[str, str] = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.READ,
    "failed": Message.Status.FAILED,
    "deleted": Message.Status.FAILED,
}

_STATUS_TIMESTAMP_FIELD = {
    Message.Status.SENT: "sent_at",
    Message.Status.DELIVERED: "delivered_at",
    Message.Status.READ: "read_at",
    Message.Status.FAILED: "failed_at",
}


@dataclass(frozen=True)
class StatusStep:
    """One step for a message's timeline (see `message_statuses_record`)."""

    message_id: int
    status: str
    source: str
    occurred_at: datetime | None = None
    detail: str = ""
    failure_code: str = ""


@transaction.atomic
def message_status_record(
    *,
    message_id: int,
    status: str,
    source: str,
    occurred_at: datetime | None = None,
    detail: str = "",
    failure_code: str = "",
) -> tuple[Message, bool]:
    """Add a step to a message's timeline and move its status forward when the step allows it.

    Returns the message and whether its status moved. A step seen before (same
    status from the same source) is not recorded twice. `status` is one of ours
    (see WAPPIN_STATUS_MAP for Wappin's words); an unknown one is recorded, not applied.
    """
    step = StatusStep(message_id, status, source, occurred_at, detail, failure_code)
    return message_statuses_record([step])[0]


@transaction.atomic
def message_statuses_record(steps: list[StatusStep]) -> list[tuple[Message, bool]]:
    """`message_status_record` for many steps at once, in the order given (a batch of callbacks).

    One query locks the messages (in id order, so two batches never wait on each
    other in a circle), one reads the steps already recorded, one inserts the new
    steps and one UPDATE moves the messages; the webhook events of the moves go into the
    outbox in one insert (none when the project has no endpoint for them). Returns
    (message, moved) for each step. A missing message raises `Message.DoesNotExist`.
    """
    if not steps:
        return []
    ids = sorted({step.message_id for step in steps})
    messages = {
        message.pk: message
        for message in Message.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    seen = set(
        MessageStatusEvent.objects.filter(
            message_id__in=ids, source__in={step.source for step in steps}
        ).values_list("message_id", "status", "source")
    )
    now = timezone.now()
    results, new_steps, changed, events = [], [], {}, []
    for step in steps:
        message = messages.get(step.message_id)
        if message is None:
            raise Message.DoesNotExist(f"No message #{step.message_id}.")
        if (message.pk, step.status, step.source) in seen:
            results.append((message, False))
            continue
        seen.add((message.pk, step.status, step.source))
        occurred_at = step.occurred_at or now
        moved = step.status in Message.Status.values and message.can_move_to(step.status)
        new_steps.append(
            MessageStatusEvent(
                message=message,
                status=step.status,
                source=step.source,
                occurred_at=occurred_at,
                applied=moved,
                detail=step.detail[:500],
            )
        )
        if moved:
            changed.setdefault(message.pk, {"updated_at"}).update(
                _status_move(message, step, occurred_at=occurred_at)
            )
            message.updated_at = now
            events.append(
                message_webhook_event(
                    message=message,
                    status=step.status,
                    occurred_at=occurred_at,
                    wappin_timestamp=(
                        step.occurred_at
                        if step.source == MessageStatusEvent.Source.CALLBACK
                        else None
                    ),
                )
            )
        results.append((message, moved))
    MessageStatusEvent.objects.bulk_create(new_steps)
    webhook_events_emit(event for event in events if event is not None)
    if changed:
        # The union of the changed columns: every loaded value is current (the rows are locked).
        columns = sorted(set().union(*changed.values()))
        rows_update([messages[message_id] for message_id in changed], columns)
    return results


# Wappin's times are whole seconds: one up to a second before the portal's own time of the
# message may be the same moment.
WAPPIN_TIME_RESOLUTION = timedelta(seconds=1)


def _not_before_earlier_steps(message: Message, status: str, occurred_at: datetime) -> datetime:
    """The step's time, moved up to the latest earlier step's: `*_at` never contradict the order.

    A `delivered_at` before `sent_at` (Wappin's whole seconds against the portal's microseconds)
    read as a contradiction. The message's creation counts when Wappin's second includes it.
    """
    rank = Message.STATUS_RANK.get(status, 0)
    floors = [
        getattr(message, field)
        for earlier, field in _STATUS_TIMESTAMP_FIELD.items()
        if Message.STATUS_RANK[earlier] < rank and getattr(message, field) is not None
    ]
    if message.created_at and occurred_at > message.created_at - WAPPIN_TIME_RESOLUTION:
        floors.append(message.created_at)
    return max([occurred_at, *floors])


def _status_move(message: Message, step: StatusStep, *, occurred_at: datetime) -> list[str]:
    """Move `message` (in memory) to the step's status; the columns that changed."""
    status = step.status
    message.status = status
    fields = ["status"]
    occurred_at = _not_before_earlier_steps(message, status, occurred_at)
    stamp_field = _STATUS_TIMESTAMP_FIELD.get(status)
    if stamp_field and getattr(message, stamp_field) is None:
        setattr(message, stamp_field, occurred_at)
        fields.append(stamp_field)
    # A read message was also delivered and sent, even if those callbacks never came.
    for earlier in (Message.Status.SENT, Message.Status.DELIVERED):
        earlier_field = _STATUS_TIMESTAMP_FIELD[earlier]
        if (
            status != Message.Status.FAILED
            and Message.STATUS_RANK[earlier] < Message.STATUS_RANK[status]
            and getattr(message, earlier_field) is None
        ):
            setattr(message, earlier_field, occurred_at)
            fields.append(earlier_field)
    if status == Message.Status.FAILED:
        message.failure_code = step.failure_code or message.failure_code
        message.failure_reason = (
            step.detail or message.failure_reason or "WhatsApp could not deliver it."
        )
        fields += ["failure_code", "failure_reason"]
    return fields


# --- idempotency ------------------------------------------------------------------------


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    default_code = "idempotency_key_reused"


# Keys are scoped per project, as Stripe scopes them per account: two API keys (or a key and
# a user) of one project sending the same body with the same key send once. The `owner`
# column, once the key's or user's id, holds this one scope.
IDEMPOTENCY_SCOPE = "project"


def idempotency_claim(
    *, project: Project, key: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    """Claim an Idempotency-Key for a request, or find the first request's record.

    Returns (record, replay). Call it inside the transaction that writes the
    message: the unique constraint makes a concurrent duplicate wait for the
    first transaction and then find its committed record (or, if the first
    rolled back, claim the key itself). The same key with another body is
    refused (422): it is a client bug, and replaying the wrong answer would hide it.
    """
    key = (key or "").strip()
    if len(key) > 255:
        raise ValidationFailed(
            _("The Idempotency-Key may be at most 255 characters."),
            field="Idempotency-Key",
            code="idempotency_key_invalid",
        )
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                project=project,
                owner=IDEMPOTENCY_SCOPE,
                key=key,
                request_fingerprint=fingerprint,
            )
        return record, False
    except IntegrityError:
        record = IdempotencyRecord.objects.get(project=project, owner=IDEMPOTENCY_SCOPE, key=key)
    if record.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _(
                "This Idempotency-Key was already used with a different request body; "
                "use a new key for a new message."
            ),
            field="Idempotency-Key",
        )
    if record.response_status is None:
        raise Conflict(
            _("A request with this Idempotency-Key is still being processed; retry in a moment."),
            code="idempotency_in_progress",
        )
    return record, True


IDEMPOTENCY_KEEP_FOR = timezone.timedelta(hours=24)


def wappin_call_logs_prune(*, now: datetime | None = None) -> int:
    """Nightly: forget calls to Wappin older than `WAPPIN_CALL_LOG_RETENTION_DAYS`."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WAPPIN_CALL_LOG_RETENTION_DAYS)
    return rows_delete(WappinCallLog.objects.filter(created_at__lt=cutoff))


def idempotency_records_prune(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEEP_FOR
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def idempotency_complete(
    *, record: IdempotencyRecord, response_status: int, response_body: dict, message: Message | None
) -> IdempotencyRecord:
    record.response_status = response_status
    record.response_body = response_body
    record.message = message
    record.save(update_fields=["response_status", "response_body", "message"])
    return record


# The answer to an accepted send.
ACCEPTED = 202


@dataclass(frozen=True)
class SendAnswer:
    """What a send request is answered: the status, the body, and whether it replays a first answer."""

    status: int
    body: dict
    replayed: bool = False


def message_send_idempotent(
    *,
    project: Project,
    key: str,
    fingerprint: str,
    send: Callable[[], Message],
    answer_body: Callable[[Message], dict],
) -> SendAnswer:
    """Send once per Idempotency-Key: `send()` (one `message_send_*`), or replay the first answer.

    Keys are the project's (IDEMPOTENCY_SCOPE), whichever key or user sends;
    `fingerprint` is a hash of the request, so the same key with another body is
    refused; `answer_body` renders the accepted message, and that body is what a
    replay answers. The key's record is written in the same transaction as the
    message, so either both exist or neither does. Without a key, it simply sends.
    """
    key = (key or "").strip()
    if not key:
        message = send()
        return SendAnswer(status=ACCEPTED, body=answer_body(message))
    with transaction.atomic():
        record, replay = idempotency_claim(project=project, key=key, fingerprint=fingerprint)
        if replay:
            return SendAnswer(
                status=record.response_status, body=record.response_body, replayed=True
            )
        message = send()
        body = answer_body(message)
        idempotency_complete(
            record=record, response_status=ACCEPTED, response_body=body, message=message
        )
    return SendAnswer(status=ACCEPTED, body=body)


# --- sending: checks ------------------------------------------------------------------


def integration_pick(*, project: Project, kind: str) -> Integration:
    """The integration a send goes through: its own kind first, else the project's other kind.

    Wappin accepts every send on either integration's token, and many projects
    register only one; falling back spares them a second set of credentials.
    """
    other = (
        Integration.Kind.CHATBOT
        if kind == Integration.Kind.NOTIFICATION
        else Integration.Kind.NOTIFICATION
    )
    integration = integration_first_active(project=project, kinds=(kind, other))
    if integration is None:
        raise Conflict(
            _("%(project)s has no active Wappin integration: add one in the admin before sending.")
            % {"project": project.name},
            code="integration_missing",
        )
    if not (project.client_id and integration.secret_key_is_set):
        raise Conflict(
            _(
                "The %(kind)s integration of %(project)s has no client ID "
                "or secret key yet: fill them in the admin before sending."
            )
            % {"kind": integration.get_kind_display(), "project": project.name},
            code="integration_no_credentials",
        )
    return integration


def _window_check(*, contact: Contact, source: str) -> None:
    """WhatsApp's rule: free-form text and media only within 24 hours of the customer's last message.

    A chatbot reply answers a message we have just received, so it is inside
    the window by construction (and the inbound row may not be committed yet).
    Called inside the sending transaction with the contact it just read, so a
    refusal rolls back a contact made for it.
    """
    if source == Message.Source.CHATBOT:
        return
    if not contact.window_is_open():
        raise Conflict(
            _(
                "WhatsApp allows free-form text and media only within 24 hours of the customer's "
                "last message; send an approved template instead."
            ),
            code="outside_24h_window",
            field="recipient_number",
        )


def _media_size(media: File) -> int:
    size = getattr(media, "size", None)
    if size is None:
        media.seek(0, os.SEEK_END)
        size = media.tell()
        media.seek(0)
    return size


def _media_check(*, media: File | None, media_type: str, field: str = "media") -> None:
    if media is None:
        raise ValidationFailed(_("Attach the media file."), field=field, code="media_required")
    media_check(
        media_type=media_type,
        filename=os.path.basename(media.name or ""),
        size=_media_size(media),
        content_type=getattr(media, "content_type", None),
        head=media_head(media),
    )


def _media_store(*, message: Message, media: File) -> None:
    """Keep our own copy of the media with the message: the task sends from it, the history shows it."""
    media.seek(0)
    message.media.save(
        os.path.basename(media.name or "media"), ContentFile(media.read()), save=False
    )


# --- sending: the outbox ----------------------------------------------------------------


def _message_queue(*, message: Message) -> Message:
    """Save a new outgoing message and its first timeline step; wake the sending engine after commit.

    The wake is robust: once the transaction has committed, the message is
    accepted; a broker hiccup must not turn that into an error answer (the client
    would retry and send twice). A queued row nobody woke for is found by the
    sending sweep (`messaging/sending/engine.py`).
    """
    from messaging.sending.engine import send_queue_wake_on_commit  # the engine imports this module

    message.request_id = request_id_var.get() or ""
    message.save()
    MessageStatusEvent.objects.create(
        message=message,
        status=Message.Status.QUEUED,
        source=MessageStatusEvent.Source.PORTAL,
        occurred_at=message.created_at,
    )
    webhook_events_emit(
        [
            message_webhook_event(
                message=message, status=Message.Status.QUEUED, occurred_at=message.created_at
            )
        ]
    )
    send_queue_wake_on_commit(integration_id=message.integration_id)
    return message


def message_send_text(
    *,
    project: Project,
    phone_number: str,
    text: str,
    source: str,
    sent_by: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Message:
    """Queue a free-form text (Wappin's do-send) to a customer inside the 24-hour window."""
    capability_require(project=project, capability="message.send", actor=sent_by, api_key=api_key)
    number = phone_normalize(phone_number, region=project.default_region)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(
            _("Write the message."), field="message_content", code="text_required"
        )
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationFailed(
            _("WhatsApp takes at most %(max)d characters; this message has %(length)d.")
            % {"max": TEXT_MAX_LENGTH, "length": len(text)},
            field="message_content",
            code="text_too_long",
        )
    integration = integration_pick(project=project, kind=Integration.Kind.CHATBOT)
    with transaction.atomic():
        contact = contact_get_or_create(project=project, phone_number=number, stored_form=True)
        _window_check(contact=contact, source=source)
        return _message_queue(
            message=Message(
                project=project,
                integration=integration,
                contact=contact,
                kind=Message.Kind.TEXT,
                phone_number=number,
                text=text,
                source=source,
                sent_by=_user_or_none(sent_by),
                api_key=api_key,
            )
        )


def message_send_media(
    *,
    project: Project,
    phone_number: str,
    media_type: str,
    media: File | None,
    caption: str = "",
    source: str,
    sent_by: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Message:
    """Queue an image, document or audio (Wappin's do-send-media) inside the 24-hour window."""
    capability_require(project=project, capability="message.send", actor=sent_by, api_key=api_key)
    number = phone_normalize(phone_number, region=project.default_region)
    if media_type not in Message.MediaType.values:
        raise ValidationFailed(
            _("media_type must be one of %(choices)s.")
            % {"choices": ", ".join(Message.MediaType.values)},
            field="media_type",
            code="media_type_invalid",
        )
    _media_check(media=media, media_type=media_type)
    caption = (caption or "").strip()
    if caption and media_type not in CAPTION_MEDIA_TYPES:
        raise ValidationFailed(
            _("WhatsApp shows a caption only under an image or a document."),
            field="caption",
            code="caption_not_allowed",
        )
    if len(caption) > CAPTION_MAX_LENGTH:
        raise ValidationFailed(
            _("A caption is at most %(max)d characters; this one has %(length)d.")
            % {"max": CAPTION_MAX_LENGTH, "length": len(caption)},
            field="caption",
            code="caption_too_long",
        )
    integration = integration_pick(project=project, kind=Integration.Kind.CHATBOT)
    with transaction.atomic():
        contact = contact_get_or_create(project=project, phone_number=number, stored_form=True)
        _window_check(contact=contact, source=source)
        message = Message(
            project=project,
            integration=integration,
            contact=contact,
            kind=Message.Kind.MEDIA,
            phone_number=number,
            media_type=media_type,
            caption=caption,
            source=source,
            sent_by=_user_or_none(sent_by),
            api_key=api_key,
        )
        _media_store(message=message, media=media)
        return _message_queue(message=message)


def message_send_hsm(
    *,
    project: Project,
    phone_number: str,
    template_name: str,
    language_code: str = "",
    params: dict | None,
    header_param: str | None = None,
    button_url: str | None = None,
    reply_payloads: dict | None = None,
    media: File | None = None,
    source: str,
    sent_by: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    blast: Blast | None = None,
) -> Message:
    """Queue an approved template (Wappin's do-send-hsm, or do-send-hsm-with-media with `media`).

    `blast`: the blast this message is part of (`messaging.blasts` sends one per contact).
    """
    if blast is None:  # a blast's messages were allowed when the blast started
        capability_require(
            project=project, capability="message.send", actor=sent_by, api_key=api_key
        )
    number = phone_normalize(phone_number, region=project.default_region)
    params = {
        str(key): _param_text(
            value, field="params", name=f"Param {key}", max_length=PARAM_MAX_LENGTH
        )
        for key, value in (params or {}).items()
    }
    reply_payloads = {
        str(key): _param_text(
            value, field="reply_payloads", name=f"Reply payload {key}", max_length=PARAM_MAX_LENGTH
        )
        for key, value in (reply_payloads or {}).items()
    }
    header_param = (
        _param_text(
            header_param,
            field="header_param",
            name="The header param",
            max_length=Message._meta.get_field("header_param").max_length,
        )
        or None
    )
    button_url = (
        _param_text(
            button_url,
            field="button_url",
            name="The URL button's param",
            max_length=Message._meta.get_field("button_url").max_length,
        )
        or None
    )
    language = template_language_resolve(
        project=project,
        template_name=(template_name or "").strip(),
        language_code=language_code or "",
    )
    template_send_params_check(
        language=language,
        params=params,
        header_param=header_param,
        button_url=button_url,
        reply_payloads=reply_payloads,
        has_media=media is not None,
    )
    if media is not None:
        _media_check(media=media, media_type=language.header_type)
    integration = integration_pick(project=project, kind=Integration.Kind.NOTIFICATION)
    template = language.template
    # By number, on the suppression list: a renumbered or deleted contact changes nothing.
    if template.message_type == Template.MessageType.MARKETING and number_opted_out(
        project=project, phone_number=number
    ):
        raise Conflict(
            _(
                "%(number)s opted out of marketing messages (they sent STOP); "
                "this marketing template is not sent to them."
            )
            % {"number": number},
            code="contact_opted_out",
            field="recipient_number",
        )
    with transaction.atomic():
        contact = contact_get_or_create(project=project, phone_number=number, stored_form=True)
        message = Message(
            project=project,
            integration=integration,
            contact=contact,
            kind=Message.Kind.HSM_MEDIA if media is not None else Message.Kind.HSM,
            phone_number=number,
            template=template,
            template_name=template.name,
            language_code=language.language_code,
            params=params,
            header_param=header_param or "",
            button_url=button_url or "",
            reply_payloads=reply_payloads,
            media_type=language.header_type if media is not None else "",
            source=source,
            sent_by=_user_or_none(sent_by),
            api_key=api_key,
            blast=blast,
        )
        if media is not None:
            _media_store(message=message, media=media)
        return _message_queue(message=message)


def _param_text(value: object, *, field: str, name: str, max_length: int) -> str:
    """One value that fills a template, as given in JSON: text or a number, never an object or list.

    None reads as empty (the template checks then say which value is missing).
    """
    if value is None:
        return ""
    if (
        isinstance(value, bool)
        or not isinstance(value, str | int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise ValidationFailed(
            _("%(name)s must be text, not %(value)s.")
            % {"name": name, "value": json.dumps(value, default=str)[:40]},
            field=field,
            code="param_not_text",
        )
    text = str(value)
    if "\x00" in text:  # PostgreSQL's JSON cannot hold it
        raise ValidationFailed(
            _("%(name)s contains a NUL character.") % {"name": name},
            field=field,
            code="param_not_text",
        )
    if len(text) > max_length:
        raise ValidationFailed(
            _("%(name)s is %(length)d characters long; at most %(max)d fit.")
            % {"name": name, "length": len(text), "max": max_length},
            field=field,
            code="param_too_long",
        )
    return text


def _user_or_none(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    # An API key's request.user is not a database user.
    return user if user is not None and getattr(user, "pk", None) is not None else None
