"""Reads for callbacks: who is calling, may they, and the chat panel's lists."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet

from messaging.models import Contact, Message
from projects.models import Integration, Project
from projects.selectors import ENCRYPTED_INTEGRATION_FIELDS
from templates_app.selectors import template_preview
from wappin_portal.client_ip import address_in

# The integration behind a callback URL, kept in the shared cache (Redis in production)
# for this long; `callback_integration_forget` drops it as soon as it or its project is saved.
CALLBACK_INTEGRATION_CACHE_SECONDS = 60


def _callback_integration_cache_key(key: str) -> str:
    return f"callbacks:integration:{key}"


# While this key lives, a callback processor is woken or running (`services.callbacks_wake`).
PROCESSOR_WAKE_KEY = "callbacks:processor-woken"


@dataclass(frozen=True)
class CallbackTarget:
    """Who a callback URL belongs to, and whether a processor is already on its way."""

    integration: Integration | None
    processor_awake: bool


def callback_target_get(*, key: str) -> CallbackTarget:
    """The integration whose callback URL carries `key` (with its project), and the processor's state.

    Both in one round trip to the shared cache (Redis in production): a blast brings
    three callbacks a message, all to the same URL. The integration comes from the
    database when it is not cached (one query; unknown keys are not cached). Its
    secrets stay encrypted in the row (deferred, so neither read nor cached): the token
    is checked against its digest, so a callback decrypts nothing.
    """
    cache_key = _callback_integration_cache_key(key)
    found = cache.get_many([cache_key, PROCESSOR_WAKE_KEY])
    integration = found.get(cache_key)
    if integration is None:
        integration = (
            Integration.objects.select_related("project", "credential")
            .defer(*ENCRYPTED_INTEGRATION_FIELDS)
            .filter(callback_key=key)
            .first()
        )
        if integration is not None:
            cache.set(cache_key, integration, CALLBACK_INTEGRATION_CACHE_SECONDS)
    return CallbackTarget(integration, processor_awake=PROCESSOR_WAKE_KEY in found)


def callback_integrations_of_credential_forget(*, credential_id: int) -> None:
    """The client's token changed: every integration of the client is read afresh.

    Now, and again once the change is committed: a callback that read the row before the
    commit may have cached the old tokens meanwhile.
    """
    keys = list(
        Integration.objects.filter(credential_id=credential_id).values_list(
            "callback_key", flat=True
        )
    )
    callback_integration_forget(keys=keys)
    transaction.on_commit(lambda: callback_integration_forget(keys=keys))


def callback_integration_forget(*, keys) -> None:
    """Drop these callback URLs' integrations from the cache (they, or their project, changed)."""
    cache.delete_many([_callback_integration_cache_key(key) for key in keys])


def callback_address_allowed(*, integration: Integration, address: str) -> bool:
    """Whether the callback may come from this address (an empty allow-list allows any)."""
    if not integration.callback_ip_allowlist:
        return True
    return address_in(address, integration.callback_ip_allowlist)


# The two refusals that a fetch of the client's current token can cure (`callback_receive`).
TOKEN_NONE_YET = (
    "This integration has no Wappin token yet, so no callback can be checked: "
    "the portal fetches one on its first call to Wappin (a send, or the token refresh)."
)
TOKEN_UNKNOWN = (
    "The bearer token is not the current or previous token of this integration's Wappin client."
)


def callback_token_check(*, integration: Integration, authorization: str) -> str:
    """Check `Authorization: Bearer <token>`; returns "" when it matches, else the reason.

    The current and the previous token of the integration's Wappin client both count
    (every integration of one client id and secret key shares them; Wappin may still
    sign with the old one for a moment after a refresh). Compared by their SHA-256
    digests (`WappinCredential.access_token_digest`), in constant time; the reason
    never contains a token.
    """
    scheme, _, token = (authorization or "").strip().partition(" ")
    if not authorization:
        return "No Authorization header: Wappin sends 'Authorization: Bearer <token>'."
    if scheme.lower() != "bearer" or not token.strip():
        return "The Authorization header is not 'Bearer <token>'."
    credential = integration.credential if integration.credential_id else None
    known = [
        digest
        for digest in (
            (credential.access_token_digest, credential.previous_access_token_digest)
            if credential
            else ()
        )
        if digest
    ]
    if not known:
        return TOKEN_NONE_YET
    given = hashlib.sha256(token.strip().encode()).hexdigest().encode()
    matched = False
    for candidate in known:
        # Compare against every candidate (no early exit) so timing says nothing about which.
        matched |= hmac.compare_digest(given, candidate.encode())
    return "" if matched else TOKEN_UNKNOWN


def chat_conversation_list(*, project: Project, limit: int = 100) -> QuerySet[Contact]:
    """Contacts who wrote to us, the ones waiting for a person first, then the most recent."""
    return (
        Contact.objects.filter(project=project, last_inbound_at__isnull=False)
        .annotate(
            last_message_at=Max("messages__created_at"),
            inbound_count=Count(
                "messages", filter=Q(messages__direction=Message.Direction.INCOMING)
            ),
        )
        .order_by(F("handed_over_at").desc(nulls_last=True), "-last_inbound_at")[:limit]
    )


def chat_messages(*, contact: Contact, limit: int = 200) -> list[Message]:
    """The conversation with one contact, oldest first.

    A template message carries `.preview`: its text as the customer saw it
    (params filled in), from the language it was sent in (stored resolved).
    """
    recent = list(
        Message.objects.filter(project=contact.project, contact=contact)
        .select_related("template")
        .prefetch_related("template__languages")
        .order_by("-created_at", "-id")[:limit]
    )
    for message in recent:
        message.preview = _sent_template_preview(message)
    return list(reversed(recent))


def _sent_template_preview(message: Message) -> dict | None:
    if message.template is None:
        return None
    language = next(
        (
            lang
            for lang in message.template.languages.all()
            if lang.language_code == message.language_code
        ),
        None,
    )
    if language is None:  # the language was removed since: the history page still has the params
        return None
    return template_preview(
        language=language,
        params=message.params,
        header_param=message.header_param or None,
        button_url=message.button_url or None,
    )
