"""Writes on messages and contacts: sending, statuses, inbound messages.

Sending is an outbox: `message_send_*` check everything a person can fix, write
the Message row (status `queued`) and its first timeline step in one
transaction, and enqueue the Celery task only once that transaction commits.
Nothing here talks to Wappin before the row exists.
"""

from __future__ import annotations

import json
import logging
import math
import mimetypes
import os
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.models import Blast, Contact, IdempotencyRecord, Message, MessageStatusEvent
from messaging.sending.engine import send_queue_wake_on_commit
from messaging.wappin import MediaUpload, SendResult, WappinClient
from projects.models import ApiKey, Integration, Project
from projects.selectors import integration_first_active
from templates_app.media import media_check
from templates_app.models import Template
from templates_app.selectors import template_language_resolve, template_send_params_check
from wappin_portal.errors import ApplicationError, Conflict, ValidationFailed
from wappin_portal.phone import phone_normalize

logger = logging.getLogger(__name__)

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
    message = Message.objects.select_for_update().get(pk=message_id)
    occurred_at = occurred_at or timezone.now()
    if MessageStatusEvent.objects.filter(message=message, status=status, source=source).exists():
        return message, False
    moved = status in Message.Status.values and message.can_move_to(status)
    MessageStatusEvent.objects.create(
        message=message,
        status=status,
        source=source,
        occurred_at=occurred_at,
        applied=moved,
        detail=detail[:500],
    )
    if moved:
        message.status = status
        fields = ["status", "updated_at"]
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
            message.failure_code = failure_code or message.failure_code
            message.failure_reason = detail or message.failure_reason or "WhatsApp could not deliver it."
            fields += ["failure_code", "failure_reason"]
        message.save(update_fields=fields)
    return message, moved


# --- contacts -------------------------------------------------------------------------


def contact_get_or_create(*, project: Project, phone_number: str, name: str = "") -> Contact:
    """The project's contact for a number (normalised first); a name fills an empty one."""
    number = phone_normalize(phone_number)
    contact, created = Contact.objects.get_or_create(
        project=project, phone_number=number, defaults={"name": name.strip()[:120]}
    )
    if not created and name.strip() and not contact.name:
        contact.name = name.strip()[:120]
        contact.save(update_fields=["name", "updated_at"])
    return contact


def contact_create(
    *, project: Project, phone_number: str, name: str = "", attributes: dict | None = None
) -> Contact:
    """A new contact; a number the project already has is refused (409) with the existing one's id."""
    number = phone_normalize(phone_number, field="phone_number")
    existing = Contact.objects.filter(project=project, phone_number=number).first()
    if existing is not None:
        raise _contact_exists(existing)
    try:
        with transaction.atomic():
            return Contact.objects.create(
                project=project, phone_number=number, name=name.strip()[:120], attributes=attributes or {}
            )
    except IntegrityError as exc:  # created by a concurrent request in between
        raise _contact_exists(Contact.objects.get(project=project, phone_number=number)) from exc


def contact_update(
    *, contact: Contact, phone_number: str | None = None, name: str | None = None, attributes: dict | None = None
) -> Contact:
    fields = ["updated_at"]
    if phone_number is not None:
        number = phone_normalize(phone_number, field="phone_number")
        other = Contact.objects.filter(project=contact.project, phone_number=number).exclude(pk=contact.pk).first()
        if other is not None:
            raise _contact_exists(other)
        contact.phone_number = number
        fields.append("phone_number")
    if name is not None:
        contact.name = name.strip()[:120]
        fields.append("name")
    if attributes is not None:
        contact.attributes = attributes
        fields.append("attributes")
    contact.save(update_fields=fields)
    return contact


def contact_delete(*, contact: Contact) -> None:
    """Forget a contact; its messages stay in the history, by number."""
    contact.delete()


def _contact_exists(existing: Contact) -> Conflict:
    return Conflict(
        f"{existing.phone_number} is already a contact of this project (id {existing.pk}).",
        code="contact_exists",
        field="phone_number",
        extra={"contact_id": existing.pk},
    )


# --- idempotency ------------------------------------------------------------------------


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    default_code = "idempotency_key_reused"


def idempotency_claim(
    *, project: Project, owner: str, key: str, fingerprint: str
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
            "The Idempotency-Key may be at most 255 characters.", field="Idempotency-Key", code="idempotency_key_invalid"
        )
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                project=project, owner=owner, key=key, request_fingerprint=fingerprint
            )
        return record, False
    except IntegrityError:
        record = IdempotencyRecord.objects.get(project=project, owner=owner, key=key)
    if record.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a new message.",
            field="Idempotency-Key",
        )
    if record.response_status is None:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
            code="idempotency_in_progress",
        )
    return record, True


IDEMPOTENCY_KEEP_FOR = timezone.timedelta(hours=24)


def idempotency_records_prune(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEEP_FOR
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def idempotency_complete(
    *, record: IdempotencyRecord, response_status: int, response_body: dict, message: Message | None
) -> IdempotencyRecord:
    record.response_status = response_status
    record.response_body = response_body
    record.message = message
    record.save(update_fields=["response_status", "response_body", "message"])
    return record


# --- sending: checks ------------------------------------------------------------------


def _integration_pick(*, project: Project, kind: str) -> Integration:
    """The integration a send goes through: its own kind first, else the project's other kind.

    Wappin accepts every send on either integration's token, and many projects
    register only one; falling back spares them a second set of credentials.
    """
    other = (
        Integration.Kind.CHATBOT if kind == Integration.Kind.NOTIFICATION else Integration.Kind.NOTIFICATION
    )
    integration = integration_first_active(project=project, kinds=(kind, other))
    if integration is None:
        raise Conflict(
            f"{project.name} has no active Wappin integration: add one in the admin before sending.",
            code="integration_missing",
        )
    if not (project.client_id and integration.secret_key_is_set):
        raise Conflict(
            f"The {integration.get_kind_display()} integration of {project.name} has no client ID "
            "or secret key yet: fill them in the admin before sending.",
            code="integration_no_credentials",
        )
    return integration


def _contact_existing(*, project: Project, phone_number: str) -> Contact | None:
    return Contact.objects.filter(project=project, phone_number=phone_number).first()


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
            "WhatsApp allows free-form text and media only within 24 hours of the customer's last "
            "message; send an approved template instead.",
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
        raise ValidationFailed("Attach the media file.", field=field, code="media_required")
    media_check(
        media_type=media_type,
        filename=os.path.basename(media.name or ""),
        size=_media_size(media),
        content_type=getattr(media, "content_type", None),
    )


def _media_store(*, message: Message, media: File) -> None:
    """Keep our own copy of the media with the message: the task sends from it, the history shows it."""
    media.seek(0)
    message.media.save(os.path.basename(media.name or "media"), ContentFile(media.read()), save=False)


# --- sending: the outbox ----------------------------------------------------------------


def _message_queue(*, message: Message) -> Message:
    """Save a new outgoing message and its first timeline step; wake the sending engine after commit.

    Once the transaction has committed, the message is accepted; a broker hiccup
    must not turn that into an error answer (the client would retry and send
    twice): the wake is robust, and the sending sweep finds any queued row later.
    """
    message.save()
    MessageStatusEvent.objects.create(
        message=message,
        status=Message.Status.QUEUED,
        source=MessageStatusEvent.Source.PORTAL,
        occurred_at=message.created_at,
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
    number = phone_normalize(phone_number)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Write the message.", field="message_content", code="text_required")
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationFailed(
            f"WhatsApp takes at most {TEXT_MAX_LENGTH} characters; this message has {len(text)}.",
            field="message_content",
            code="text_too_long",
        )
    integration = _integration_pick(project=project, kind=Integration.Kind.CHATBOT)
    with transaction.atomic():
        contact = contact_get_or_create(project=project, phone_number=number)
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
    number = phone_normalize(phone_number)
    if media_type not in Message.MediaType.values:
        raise ValidationFailed(
            f"media_type must be one of {', '.join(Message.MediaType.values)}.",
            field="media_type",
            code="media_type_invalid",
        )
    _media_check(media=media, media_type=media_type)
    caption = (caption or "").strip()
    if caption and media_type not in CAPTION_MEDIA_TYPES:
        raise ValidationFailed(
            "WhatsApp shows a caption only under an image or a document.",
            field="caption",
            code="caption_not_allowed",
        )
    if len(caption) > CAPTION_MAX_LENGTH:
        raise ValidationFailed(
            f"A caption is at most {CAPTION_MAX_LENGTH} characters; this one has {len(caption)}.",
            field="caption",
            code="caption_too_long",
        )
    integration = _integration_pick(project=project, kind=Integration.Kind.CHATBOT)
    with transaction.atomic():
        contact = contact_get_or_create(project=project, phone_number=number)
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
    number = phone_normalize(phone_number)
    params = {
        str(key): _param_text(value, field="params", name=f"Param {key}", max_length=PARAM_MAX_LENGTH)
        for key, value in (params or {}).items()
    }
    reply_payloads = {
        str(key): _param_text(
            value, field="reply_payloads", name=f"Reply payload {key}", max_length=PARAM_MAX_LENGTH
        )
        for key, value in (reply_payloads or {}).items()
    }
    header_param = _param_text(
        header_param, field="header_param", name="The header param",
        max_length=Message._meta.get_field("header_param").max_length,
    ) or None
    button_url = _param_text(
        button_url, field="button_url", name="The URL button's param",
        max_length=Message._meta.get_field("button_url").max_length,
    ) or None
    language = template_language_resolve(
        project=project, template_name=(template_name or "").strip(), language_code=language_code or ""
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
    integration = _integration_pick(project=project, kind=Integration.Kind.NOTIFICATION)
    template = language.template
    if template.message_type == Template.MessageType.MARKETING:
        contact = _contact_existing(project=project, phone_number=number)
        if contact is not None and contact.is_opted_out:
            raise Conflict(
                f"{number} opted out of marketing messages (they sent STOP); "
                "this marketing template is not sent to them.",
                code="contact_opted_out",
                field="recipient_number",
            )
    with transaction.atomic():
        contact = contact_get_or_create(project=project, phone_number=number)
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
    if isinstance(value, bool) or not isinstance(value, str | int | float) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise ValidationFailed(
            f"{name} must be text, not {json.dumps(value, default=str)[:40]}.", field=field, code="param_not_text"
        )
    text = str(value)
    if "\x00" in text:  # PostgreSQL's JSON cannot hold it
        raise ValidationFailed(f"{name} contains a NUL character.", field=field, code="param_not_text")
    if len(text) > max_length:
        raise ValidationFailed(
            f"{name} is {len(text)} characters long; at most {max_length} fit.", field=field, code="param_too_long"
        )
    return text


def _user_or_none(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    # An API key's request.user is not a database user.
    return user if user is not None and getattr(user, "pk", None) is not None else None


# --- delivering: the task's side --------------------------------------------------------

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


def _enqueue_settle(message_id: int) -> None:
    from messaging.tasks import SETTLE_FIRST_LOOK_SECONDS, message_settle

    message_settle.apply_async((message_id,), countdown=SETTLE_FIRST_LOOK_SECONDS)


def message_refresh_status(*, message_id: int) -> Message:
    """Ask Wappin's inquiry API for the message's timeline and record each step (source `inquiry`)."""
    message = Message.objects.select_related("project", "integration").get(pk=message_id)
    if not message.wappin_message_id:
        raise Conflict(
            "Wappin has not given this message an id yet, so there is no status to ask for.",
            code="message_not_accepted",
        )
    integration = message.integration or _integration_pick(
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
    - `queued` (the wake was lost): the sending engine is woken again.
    """
    now = now or timezone.now()
    message = Message.objects.get(pk=message_id)
    if message.status not in (Message.Status.UNKNOWN, Message.Status.QUEUED):
        return message
    if message.wappin_message_id:
        return message_refresh_status(message_id=message.pk)
    age = now - message.updated_at
    if message.status == Message.Status.QUEUED:
        # Never tried, or waiting for its next try: the sending engine's business.
        if age >= QUEUED_STALE_AFTER and message.integration_id:
            send_queue_wake_on_commit(integration_id=message.integration_id)
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
