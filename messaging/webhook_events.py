"""The webhook events of messaging: what a message's, a contact's and a blast's events carry.

Built here (the app that knows the rows) and handed to `projects.webhooks.services`,
which writes the outbox in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from messaging.models import Blast, Message
from projects.webhooks.models import WebhookEventType
from projects.webhooks.services import WebhookEvent

MESSAGE_EVENT_TYPES = {
    Message.Status.QUEUED: WebhookEventType.MESSAGE_QUEUED,
    Message.Status.SENT: WebhookEventType.MESSAGE_SENT,
    Message.Status.DELIVERED: WebhookEventType.MESSAGE_DELIVERED,
    Message.Status.READ: WebhookEventType.MESSAGE_READ,
    Message.Status.FAILED: WebhookEventType.MESSAGE_FAILED,
    Message.Status.RECEIVED: WebhookEventType.MESSAGE_RECEIVED,
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_webhook_event(
    *,
    message: Message,
    status: str,
    occurred_at: datetime,
    wappin_timestamp: datetime | None = None,
) -> WebhookEvent | None:
    """The event of `message` reaching `status` (None: a status no event stands for).

    `sequence` is the status's rank (queued 1 … read 6, failed 7): statuses only move
    forward, so a receiver keeps a message's event with the highest sequence and drops
    a late one with a lower sequence (deliveries are not ordered).
    """
    event_type = MESSAGE_EVENT_TYPES.get(status)
    if event_type is None:
        return None
    data = {
        "message": {
            "id": message.pk,
            "wappin_message_id": message.wappin_message_id or None,
            "direction": message.direction,
            "kind": message.kind,
            "phone_number": message.phone_number,
            "template_name": message.template_name or None,
            "blast_id": message.blast_id,
        },
        "status": status,
        "sequence": Message.STATUS_RANK[status] + 1,
        "occurred_at": _iso(occurred_at),
        "wappin_timestamp": _iso(wappin_timestamp),
    }
    if status == Message.Status.FAILED:
        data["failure"] = {"code": message.failure_code, "reason": message.failure_reason}
    if status == Message.Status.RECEIVED:
        data["message"]["text"] = message.text
    return WebhookEvent(message.project_id, event_type, data, occurred_at)


def contact_webhook_event(
    *, project_id: int, phone_number: str, opted_out: bool, source: str, occurred_at: datetime
) -> WebhookEvent:
    event_type = (
        WebhookEventType.CONTACT_OPTED_OUT if opted_out else WebhookEventType.CONTACT_OPTED_IN
    )
    data = {"phone_number": phone_number, "source": source, "occurred_at": _iso(occurred_at)}
    return WebhookEvent(project_id, event_type, data, occurred_at)


def blast_webhook_event(*, blast: Blast, event_type: str, occurred_at: datetime) -> WebhookEvent:
    data = {
        "blast": {
            "id": blast.pk,
            "name": blast.name,
            "status": blast.status,
            "audience_count": blast.audience_count,
        },
        "occurred_at": _iso(occurred_at),
    }
    return WebhookEvent(blast.project_id, event_type, data, occurred_at)
