"""Writes on messages and contacts: sending, statuses, inbound messages."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from messaging.models import Message, MessageStatusEvent

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
