"""The callback log: every call Wappin makes to us, stored before anything is done with it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import Contact, Message
from projects.models import Integration

# Bigger bodies are refused (413): Wappin's callbacks are a dozen short fields.
CALLBACK_BODY_MAX_BYTES = 64 * 1024
# A refused caller's body is kept only this far, enough to see what it was.
REJECTED_BODY_KEEP_BYTES = 2 * 1024


class CallbackEvent(models.Model):
    """One POST to an integration's callback URL, with what we decided and what it did."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DUPLICATE = "duplicate", _("Duplicate (a retry)")
        REJECTED_IP = "rejected_ip", _("Rejected: address not allowed")
        REJECTED_AUTH = "rejected_auth", _("Rejected: token")
        MALFORMED = "malformed", _("Malformed")
        UNKNOWN_TYPE = "unknown_type", _("Unknown callback type")

    class State(models.TextChoices):
        # Accepted, not applied yet (or waiting for the message it is about).
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        # Nothing to do: refused, malformed, a duplicate, or given up on.
        SKIPPED = "skipped", _("Skipped")

    class CallbackType(models.TextChoices):
        STATUS = "status", _("Status")
        MESSAGE = "message", _("Message")

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="callback_events"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    remote_addr = models.GenericIPAddressField(_("caller address"), null=True, blank=True)
    body = models.TextField(blank=True)
    body_size = models.PositiveIntegerField(default=0)
    # Content-Type, User-Agent, X-Forwarded-For...; Authorization only as its scheme, never its value.
    headers = models.JSONField(default=dict, blank=True)
    # Free text: an unknown type is stored as Wappin sent it.
    callback_type = models.CharField(max_length=50, blank=True)
    wappin_message_id = models.CharField(max_length=64, blank=True)
    status_value = models.CharField(_("status (Wappin's word)"), max_length=50, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    # type + message id (+ status): a retry of the same callback has the same key.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 - NULL: no key, never equal
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    reason = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    result = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The message the callback is about (ours for a status; the customer's for a message).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # The chatbot's answer to a customer's message, so a second processing never answers twice.
    reply = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        # Each index is paid by every callback's INSERT (a blast brings three a message):
        # only the ones a query needs, none of the LIKE twins Django adds to CharFields, and
        # the message links (NULL when stored) indexed only once set.
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="callback_dedupe_key_unique"),
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="callback_state_received"),
            models.Index(fields=["wappin_message_id"], name="callback_wappin_message_id"),
            models.Index(
                fields=["message"], name="callback_message", condition=Q(message__isnull=False)
            ),
            models.Index(fields=["reply"], name="callback_reply", condition=Q(reply__isnull=False)),
        ]

    def __str__(self) -> str:
        what = self.callback_type or "callback"
        return f"#{self.pk} {what} {self.wappin_message_id} ({self.get_verdict_display()})"


class Conversation(models.Model):
    """The chat panel's side of one customer's conversation: the member who answers it.

    A contact who wrote is a conversation whether or not this row exists; the row appears
    with the first assignment."""

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="chat_conversation"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")

    def __str__(self) -> str:
        return str(self.contact_id)


class ConversationRead(models.Model):
    """How far one member has read one conversation: the unread count is what came after."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Message ids only grow: everything of this contact up to this id has been seen.
    last_read_message_id = models.PositiveBigIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "user"], name="conversation_read_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.contact_id} up to {self.last_read_message_id}"
