"""A project's webhook endpoints, and the outbox of deliveries to them (one row per event and endpoint)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wappin_portal.fields import EncryptedTextField


class WebhookEventType(models.TextChoices):
    MESSAGE_QUEUED = "message.queued", _("A message was queued")
    MESSAGE_SENT = "message.sent", _("A message was sent")
    MESSAGE_DELIVERED = "message.delivered", _("A message was delivered")
    MESSAGE_READ = "message.read", _("A message was read")
    MESSAGE_FAILED = "message.failed", _("A message failed")
    MESSAGE_RECEIVED = "message.received", _("A customer's message was received")
    CONTACT_OPTED_OUT = "contact.opted_out", _("A contact opted out")
    CONTACT_OPTED_IN = "contact.opted_in", _("A contact opted back in")
    TEMPLATE_STATUS_CHANGED = "template.status_changed", _("A template's status changed")
    BLAST_STARTED = "blast.started", _("A blast started")
    BLAST_FINISHED = "blast.finished", _("A blast finished")


# Sent by "send a test event" only; no endpoint subscribes to it.
WEBHOOK_TEST_EVENT = "webhook.test"


class WebhookEndpoint(models.Model):
    """Where a project's events go. The signing secret is stored encrypted and shown once."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    secret = EncryptedTextField(editable=False)
    # After a rotation the old secret signs too (both signatures sent) until this moment.
    previous_secret = EncryptedTextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Since when every attempt has failed (None: the last one succeeded); 3 days disable it.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, *, now=None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous during its overlap."""
        now = now or timezone.now()
        secrets = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written in the event's own transaction."""

    class Status(models.TextChoices):
        # With a context: "Delivered" here is the receiver's 2xx, not a WhatsApp message's status
        PENDING = "pending", pgettext_lazy("webhook delivery status", "Pending")
        DELIVERED = "delivered", pgettext_lazy("webhook delivery status", "Delivered")
        FAILED = "failed", pgettext_lazy("webhook delivery status", "Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The Standard Webhooks `webhook-id`: the same on every attempt (receivers dedupe on it).
    webhook_id = models.CharField(max_length=40, db_index=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due (None: nothing more to do); the sweep picks rows past it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop after this moment (created, or resent, + the retry window).
    retry_until = models.DateTimeField()
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(next_attempt_at__isnull=False),
                name="webhookdelivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_endpoint_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id} → {self.endpoint_id}"

    @property
    def payload_json(self) -> str:
        return json.dumps(self.payload, indent=2, ensure_ascii=False)


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery, for the endpoint's log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField(default=timezone.now)
    request_headers = models.JSONField(default=dict)  # without the signatures
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.response_code}"

    @property
    def succeeded(self) -> bool:
        return self.response_code is not None and 200 <= self.response_code < 300
