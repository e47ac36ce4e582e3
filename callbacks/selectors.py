"""Reads for callbacks: who is calling, may they, and the chat panel's lists."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from callbacks.models import Conversation, ConversationRead
from messaging.models import CUSTOMER_SERVICE_WINDOW, Contact, Message
from projects.models import Integration, Project
from projects.selectors import ENCRYPTED_INTEGRATION_FIELDS
from templates_app.selectors import template_preview
from wappin_portal.client_ip import address_in
from wappin_portal.errors import NotFound

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
    scheme, _space, token = (authorization or "").strip().partition(" ")
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


class ChatView(models.TextChoices):
    """The conversation list's filters."""

    ALL = "all", _("All")
    MINE = "mine", _("Mine")
    UNASSIGNED = "unassigned", _("Unassigned")
    WITH_PERSON = "with_person", _("With a person")


def chat_conversation_list(
    *, project: Project, user: AbstractBaseUser, view: str = ChatView.ALL, limit: int = 100
) -> list[Contact]:
    """Contacts who wrote to us, the ones waiting for a person first, then the most recent.

    Each carries `unread` (the customer's messages after what `user` has read),
    `last_message` (the newest message either way) and `assignee` (or None). Three queries:
    the page of contacts, their counts, their last messages.
    """
    read_up_to = ConversationRead.objects.filter(contact=OuterRef("pk"), user=user).values(
        "last_read_message_id"
    )[:1]
    contacts = Contact.objects.filter(project=project, last_inbound_at__isnull=False)
    if view == ChatView.MINE:
        contacts = contacts.filter(chat_conversation__assigned_to=user)
    elif view == ChatView.UNASSIGNED:
        contacts = contacts.filter(
            Q(chat_conversation__isnull=True) | Q(chat_conversation__assigned_to__isnull=True)
        )
    elif view == ChatView.WITH_PERSON:
        contacts = contacts.filter(handed_over_at__isnull=False)
    # The page first (contacts only), then the counts for those contacts alone: aggregating
    # before the LIMIT would join every conversation's messages, blasts' included.
    page = list(
        contacts.order_by(
            F("handed_over_at").desc(nulls_last=True), "-last_inbound_at", "-pk"
        ).values_list("pk", flat=True)[:limit]
    )
    found = {
        row.pk: row
        for row in Contact.objects.filter(pk__in=page)
        .select_related("chat_conversation__assigned_to")
        .annotate(
            read_up_to=Coalesce(
                Subquery(read_up_to), Value(0), output_field=models.PositiveBigIntegerField()
            ),
            last_message_id=Max("messages__id"),
            unread=Count(
                "messages",
                filter=Q(
                    messages__direction=Message.Direction.INCOMING,
                    messages__id__gt=F("read_up_to"),
                ),
            ),
        )
    }
    rows = [found[pk] for pk in page if pk in found]
    last = Message.objects.in_bulk([row.last_message_id for row in rows if row.last_message_id])
    for row in rows:
        row.last_message = last.get(row.last_message_id)
        conversation = getattr(row, "chat_conversation", None)
        row.assignee = conversation.assigned_to if conversation else None
    return rows


def chat_list_version(*, project: Project, user: AbstractBaseUser) -> str:
    """What the conversation list shows, in a few characters: its poll answers 204 while the same.

    The project's newest message (by the history's index: no scan), the assignments, and how
    far `user` has read. A handover or an opt-out comes with a customer's message, so with a
    new newest message; a name edited elsewhere shows at the next change or reload."""
    newest = (
        Message.objects.filter(project=project)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    assigned = Conversation.objects.filter(contact__project=project).aggregate(
        changed=Max("assigned_at"), count=Count("assigned_to")
    )
    read = ConversationRead.objects.filter(contact__project=project, user=user).aggregate(
        changed=Max("read_at")
    )

    def stamp(moment: datetime | None) -> str:
        return f"{moment.timestamp():.3f}" if moment else "0"

    return "-".join(
        [
            str(newest or 0),
            stamp(assigned["changed"]),
            str(assigned["count"]),
            stamp(read["changed"]),
        ]
    )


def chat_assignee_choices(*, project: Project) -> list[AbstractBaseUser]:
    """The members a conversation can be given to: those who may use the chat panel."""
    from projects.models import Membership

    return [
        membership.user
        for membership in Membership.objects.filter(
            project=project,
            role__in=(Membership.Role.ADMIN, Membership.Role.MARKETING),
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__username")
    ]


@dataclass(frozen=True)
class ChatWindow:
    """WhatsApp's 24-hour customer service window of one contact, as the thread shows it."""

    closes_at: datetime | None
    now: datetime

    @property
    def is_open(self) -> bool:
        return self.closes_at is not None and self.now < self.closes_at

    @property
    def remaining(self) -> timedelta:
        return max(self.closes_at - self.now, timedelta(0)) if self.closes_at else timedelta(0)

    @property
    def hours_left(self) -> int:
        return int(self.remaining.total_seconds()) // 3600

    @property
    def minutes_left(self) -> int:
        return int(self.remaining.total_seconds()) % 3600 // 60

    @property
    def closing_soon(self) -> bool:
        return self.is_open and self.remaining < CHAT_WINDOW_WARN_BEFORE


# The countdown turns to a warning this long before the window closes.
CHAT_WINDOW_WARN_BEFORE = timedelta(hours=1)


def chat_window(*, contact: Contact, now: datetime | None = None) -> ChatWindow:
    closes_at = (
        contact.last_inbound_at + CUSTOMER_SERVICE_WINDOW if contact.last_inbound_at else None
    )
    return ChatWindow(closes_at=closes_at, now=now or timezone.now())


def chat_contact_get(*, project: Project, contact_id: int) -> Contact:
    """One conversation's contact with its assignment (one query: the thread's poll reads it)."""
    try:
        return Contact.objects.select_related("chat_conversation__assigned_to").get(
            project=project, pk=contact_id
        )
    except (Contact.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(
            gettext("No such contact in this project."), code="contact_not_found"
        ) from exc


def chat_thread_version(*, contact: Contact, window: ChatWindow) -> str:
    """What the open thread shows, in a few characters: its poll answers 204 while it is the same.

    The newest message and the latest status change of any, the window's minute, the assignee
    and whether a person has it (one aggregate query; the contact comes from `chat_contact_get`)."""
    latest = Message.objects.filter(project_id=contact.project_id, contact=contact).aggregate(
        last_id=Max("id"), changed=Max("updated_at")
    )
    changed = latest["changed"].timestamp() if latest["changed"] else 0
    conversation = getattr(contact, "chat_conversation", None)
    parts = [
        latest["last_id"] or 0,
        f"{changed:.3f}",
        int(window.is_open),
        window.hours_left * 60 + window.minutes_left,
        conversation.assigned_to_id if conversation and conversation.assigned_to_id else 0,
        int(contact.handed_over_at.timestamp()) if contact.handed_over_at else 0,
    ]
    return "-".join(str(part) for part in parts)


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
