"""What callbacks does when messaging tells it something (messaging never imports callbacks)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from callbacks.models import CallbackEvent
from callbacks.selectors import (
    callback_integration_forget,
    callback_integrations_of_credential_forget,
)
from callbacks.services import callback_event_process
from messaging.signals import messages_accepted
from projects.models import Integration, Project, WappinCredential


@receiver([post_save, post_delete], sender=Integration)
def forget_the_cached_integration(sender, instance: Integration, **kwargs) -> None:
    """A saved integration (token, allow-list, project) is read afresh by the next callback."""
    callback_integration_forget(keys=[instance.callback_key])


@receiver([post_save, post_delete], sender=WappinCredential)
def forget_the_clients_cached_integrations(sender, instance: WappinCredential, **kwargs) -> None:
    """The Wappin client's token changed: all its integrations check the new one."""
    callback_integrations_of_credential_forget(credential_id=instance.pk)


@receiver([post_save, post_delete], sender=Project)
def forget_the_projects_cached_integrations(sender, instance: Project, **kwargs) -> None:
    """The project is part of what a callback checks (its Wappin project id)."""
    callback_integration_forget(
        keys=list(
            Integration.objects.filter(project=instance).values_list("callback_key", flat=True)
        )
    )


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
