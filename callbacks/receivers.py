"""What callbacks does when messaging tells it something (messaging never imports callbacks)."""

from __future__ import annotations

from django.dispatch import receiver

from callbacks.models import CallbackEvent
from callbacks.services import callback_event_process
from messaging.signals import messages_accepted


@receiver(messages_accepted)
def apply_statuses_that_came_first(sender, *, wappin_message_ids: list[str], **kwargs) -> None:
    """Status callbacks that arrived before their message's send answer are applied now, in order."""
    pending = list(
        CallbackEvent.objects.filter(
            wappin_message_id__in=wappin_message_ids,
            callback_type=CallbackEvent.CallbackType.STATUS,
            verdict=CallbackEvent.Verdict.ACCEPTED,
            state=CallbackEvent.State.PENDING,
        )
        .order_by("occurred_at", "received_at", "id")
        .values_list("pk", flat=True)
    )
    for event_id in pending:
        callback_event_process(event_id=event_id)
