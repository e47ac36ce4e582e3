from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import ApiKey, Integration, Project, TimeStampedModel

CUSTOMER_SERVICE_WINDOW = timezone.timedelta(hours=24)


class ContactGroup(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contact_groups")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="contact_group_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStampedModel):
    """A WhatsApp user of a project, by normalised number (628...)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contacts")
    phone_number = models.CharField(max_length=20)
    name = models.CharField(max_length=120, blank=True)
    groups = models.ManyToManyField(ContactGroup, blank=True, related_name="contacts")
    attributes = models.JSONField(default=dict, blank=True)
    # The last time the customer wrote to us: opens WhatsApp's 24-hour window.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # Set when the customer sent STOP: no marketing message any more.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # Set while a person answers in the chat panel instead of the chatbot.
    handed_over_at = models.DateTimeField(null=True, blank=True)
    # Set when Wappin answered 601 (not a WhatsApp number) to a send: blasts skip the contact.
    not_on_whatsapp_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "phone_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "phone_number"], name="contact_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_number})" if self.name else self.phone_number

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None

    def window_is_open(self, *, now=None) -> bool:
        """WhatsApp's rule: free-form text and media only within 24 h of the customer's last message."""
        now = now or timezone.now()
        return (
            self.last_inbound_at is not None
            and now - self.last_inbound_at < CUSTOMER_SERVICE_WINDOW
        )


class OptOut(models.Model):
    """A number that asked for no more marketing (STOP/BERHENTI), per project.

    The suppression list: kept by number, apart from the contact row, so it survives
    the contact being renumbered, deleted or imported again. `Contact.opted_out_at`
    mirrors it for the pages (`contacts.services.contacts_opt_out_mirror`).
    """

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("The customer (STOP)")
        PERSON = "person", _("A member of the project")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="opt_outs")
    phone_number = models.CharField(max_length=20)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CUSTOMER)
    # The template of the last marketing message the customer got in the days before their
    # STOP (OPT_OUT_ATTRIBUTION_DAYS): the dashboard's "opt-outs after it" per template.
    after_template = models.ForeignKey(
        "templates_app.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "phone_number"], name="opt_out_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone_number} opted out of {self.project}"


class Message(models.Model):
    """One WhatsApp message, written before any call to Wappin (an outbox row)."""

    class Direction(models.TextChoices):
        OUTGOING = "out", _("Outgoing")
        INCOMING = "in", _("Incoming")

    class Kind(models.TextChoices):
        HSM = "hsm", _("Template")
        HSM_MEDIA = "hsm_media", _("Template with media")
        TEXT = "text", _("Text")
        MEDIA = "media", _("Media")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        # Handed to the sending engine: its call to Wappin is on the way.
        SENDING = "sending", _("Sending")
        # The send call timed out: Wappin may or may not have it. Settled by inquiry.
        UNKNOWN = "unknown", _("Unknown")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")
        # Never handed to Wappin: its blast was cancelled first. Final, and never counted as failed.
        CANCELLED = "cancelled", _("Cancelled")
        RECEIVED = "received", _("Received")

    class Source(models.TextChoices):
        USER = "user", _("Portal user")
        API_KEY = "api_key", _("API key")
        BLAST = "blast", _("Blast")
        CHATBOT = "chatbot", _("Chatbot")
        CUSTOMER = "customer", _("Customer")

    class MediaType(models.TextChoices):
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")
        AUDIO = "audio", _("Audio")

    # Statuses only move forward along this order; FAILED and CANCELLED are final.
    STATUS_RANK = {
        Status.QUEUED: 0,
        Status.SENDING: 1,
        Status.UNKNOWN: 2,
        Status.SENT: 3,
        Status.DELIVERED: 4,
        Status.READ: 5,
        Status.FAILED: 6,
        Status.CANCELLED: 6,
        Status.RECEIVED: 6,
    }
    FINAL_STATUSES = (Status.READ, Status.FAILED, Status.CANCELLED, Status.RECEIVED)
    # A message in one of these may still be handed to Wappin (or is being): its blast is not done.
    PENDING_STATUSES = (Status.QUEUED, Status.SENDING, Status.UNKNOWN)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="messages")
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    direction = models.CharField(
        max_length=3, choices=Direction.choices, default=Direction.OUTGOING
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The customer's number, normalised (628...): recipient when out, sender when in.
    phone_number = models.CharField(max_length=20)
    template = models.ForeignKey(
        "templates_app.Template",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    template_name = models.CharField(max_length=512, blank=True)
    language_code = models.CharField(max_length=10, blank=True)
    params = models.JSONField(default=dict, blank=True)
    header_param = models.CharField(max_length=1024, blank=True)
    button_url = models.CharField(max_length=2000, blank=True)
    reply_payloads = models.JSONField(default=dict, blank=True)
    text = models.TextField(blank=True)
    media = models.FileField(upload_to="messages/%Y/%m/", blank=True)
    media_type = models.CharField(max_length=10, choices=MediaType.choices, blank=True)
    caption = models.CharField(max_length=1024, blank=True)
    wappin_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    failure_code = models.CharField(max_length=20, blank=True)
    failure_reason = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # The X-Request-Id of the request that queued it: the sending engine's log lines carry it.
    request_id = models.CharField(max_length=64, blank=True, editable=False)
    # After a retryable failure (Wappin down, a 5xx): not sent again before this time.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # The blast this message is part of (one message per contact and blast).
    blast = models.ForeignKey(
        "Blast", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["blast", "contact"], name="message_unique_per_blast_contact"
            )
        ]
        indexes = [
            models.Index(fields=["project", "-created_at", "-id"], name="message_project_recent"),
            # No -id here on purpose: with it, a status + number filter could pick this index and
            # read every message of that status; a status alone reads the newest rows first anyway.
            models.Index(
                fields=["project", "status", "-created_at"], name="message_project_status"
            ),
            # With -id the index gives the history's whole order (-created_at, -id): filtered by a
            # number, the database reads that customer's rows instead of the project's newest first.
            models.Index(
                fields=["project", "phone_number", "-created_at", "-id"],
                name="message_project_number",
            ),
            # The sending engine's queues, one per lane: transactional sends, then blasts'.
            models.Index(
                fields=["integration", "id"],
                condition=models.Q(status="queued", blast__isnull=True),
                name="message_queue_transactional",
            ),
            models.Index(
                fields=["integration", "id"],
                condition=models.Q(status="queued", blast__isnull=False),
                name="message_queue_blast",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.phone_number} ({self.status})"

    def can_move_to(self, status: str) -> bool:
        """Forward only: a late 'delivered' never overwrites 'read'; 'failed' is final."""
        if self.status in (self.Status.FAILED, self.Status.CANCELLED, self.Status.RECEIVED):
            return False
        if status == self.Status.FAILED:
            return self.status != self.Status.READ
        if status == self.Status.CANCELLED:
            return self.status == self.Status.QUEUED
        return self.STATUS_RANK.get(status, -1) > self.STATUS_RANK[self.status]


class MessageStatusEvent(models.Model):
    """One step of a message's timeline, with where we learnt it."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal")
        SEND_ANSWER = "send_answer", _("Send answer")
        CALLBACK = "callback", _("Callback")
        INQUIRY = "inquiry", _("Inquiry")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="status_events")
    status = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices)
    # Whether the step moved the message's status (a late or repeated step is kept, not applied).
    applied = models.BooleanField(default=True)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "status", "source"], name="status_event_unique_per_source"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.status} ({self.get_source_display()}) at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
        )

    @property
    def status_label(self) -> str:
        """The status in the person's language (a value Message.Status lacks, as it is)."""
        try:
            return str(Message.Status(self.status).label)
        except ValueError:
            return self.status


class WappinCallLog(models.Model):
    """One call to Wappin, redacted: never a token, a secret or an Authorization header."""

    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="call_logs"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="call_logs"
    )
    endpoint = models.CharField(max_length=100)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    wappin_status = models.CharField(max_length=10, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.endpoint} → {self.wappin_status or self.http_status or self.error}"


class IdempotencyRecord(models.Model):
    """The first answer to a send request with an Idempotency-Key, replayed on retries."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    # The scope of the key: "project" (every client of the project; see IDEMPOTENCY_SCOPE).
    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "owner", "key"], name="idempotency_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


# --- Blasts -------------------------------------------------------------------------------


class Blast(TimeStampedModel):
    """One template sent to an audience (a contact group, or every contact), one message per contact.

    Its progress is never stored: the counts come from its messages (`Message.blast`)
    and its refusals in one aggregate query each (see `messaging.blasts.selectors.blast_progress`).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        # Started for a later time: the blasts tick starts it at `scheduled_at`.
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Sending")
        # The sending engine leaves its queued messages alone until it is resumed.
        PAUSED = "paused", _("Paused")
        # Every contact had its turn and none of its messages is queued, sending or unknown.
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class ValueSource(models.TextChoices):
        FIXED = "fixed", _("Fixed text")
        NAME = "name", _("Contact name")
        PHONE = "phone", _("Contact phone number")
        ATTRIBUTE = "attribute", _("Contact attribute")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="blasts")
    name = models.CharField(max_length=120)
    template = models.ForeignKey(
        "templates_app.Template", null=True, on_delete=models.SET_NULL, related_name="blasts"
    )
    # Kept by name too: the messages carry the name, and a deleted template must not blank the list.
    template_name = models.CharField(max_length=512)
    language_code = models.CharField(max_length=10)
    # None: every contact of the project. PROTECT: deleting a group must not turn its blast into "everyone".
    group = models.ForeignKey(
        ContactGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="blasts"
    )
    # {"1": {"source": "name"}, "2": {"source": "fixed", "value": "20%"}, "3": {"source": "attribute", "value": "city"}}
    params = models.JSONField(default=dict, blank=True)
    # The same shape for one value, or {} where the template has no header variable / URL-button variable.
    header_param = models.JSONField(default=dict, blank=True)
    button_url = models.JSONField(default=dict, blank=True)
    media = models.FileField(upload_to="blasts/%Y/%m/", blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # How many contacts the audience had when the blast started: the progress bar's whole.
    audience_count = models.PositiveIntegerField(default=0)
    # The expansion's cursor: every contact with an id up to this one has had its turn.
    last_contact_id = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When a scheduled blast starts (None: when it is started).
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When its last contact had its turn (a message or a refusal): it is done once these are sent.
    expanded_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Why the portal itself paused it or sent it back to draft (a template no longer approved...).
    status_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_at"], name="blast_status_scheduled"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class BlastRefusal(models.Model):
    """A contact of a blast's audience that got no message, and why (opted out, a param it lacks...)."""

    blast = models.ForeignKey(Blast, on_delete=models.CASCADE, related_name="refusals")
    contact = models.ForeignKey(Contact, null=True, on_delete=models.SET_NULL, related_name="+")
    phone_number = models.CharField(max_length=20)
    code = models.CharField(max_length=50)
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["blast", "contact"], name="blast_refusal_unique_contact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone_number}: {self.reason}"


class SendRateSlot(models.Model):
    """The next free send slot of one rate cap (the database rate limiter; Redis in production)."""

    key = models.CharField(max_length=100, unique=True)
    # Unix time (seconds) of the next slot.
    next_slot_at = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.key} @ {self.next_slot_at:.3f}"


# --- Contact imports ----------------------------------------------------------------------


class ContactImport(TimeStampedModel):
    """One uploaded contacts file, imported in the background; its counters are its progress.

    The file is kept (default storage) as the record of what was imported, with who
    uploaded it; every refused row is a `ContactImportRefusal`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="contact_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="contact-imports/%Y/%m/")
    original_filename = models.CharField(max_length=255)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # Rows with a cell in a named column, header not counted: the progress bar's whole.
    total_rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    # The file's rows (blank ones too) already written: a retried task goes on from here.
    rows_read = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    @property
    def processed(self) -> int:
        return self.imported + self.updated + self.refused

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> float:
        if self.status == self.Status.DONE:
            return 100.0
        return min(100.0, 100.0 * self.processed / self.total_rows) if self.total_rows else 0.0


class ContactImportRefusal(models.Model):
    """A row of an import that wrote nothing, and why (an invalid number...)."""

    VALUE_MAX_LENGTH = 100

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="refusals"
    )
    # The file's row number (the header is row 1).
    row = models.PositiveIntegerField()
    # The phone cell as written, truncated.
    value = models.CharField(max_length=VALUE_MAX_LENGTH, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["row", "id"]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class MessageDailyCount(models.Model):
    """Messages per project, day (the portal's zone), template, direction and status.

    The dashboard's figures. Written by database triggers on `messaging_message`
    (`messaging.dashboard.triggers`), so every path that creates, re-statuses or deletes
    messages, bulk updates included, keeps it exact: each statement adds delta rows (+1 for
    the new status, -1 for the old), and `message_counts_squash` folds them into one row per
    key every minute. A figure is the SUM of a key's rows, squashed or not, so it is right at
    any moment (rapidpro's squashable counts). Ids are plain integers, not foreign keys: the
    deltas of a project being deleted must not stop its deletion; the squash drops keys whose
    sum is 0.
    """

    project_id = models.BigIntegerField()
    day = models.DateField()
    template_id = models.BigIntegerField(null=True, blank=True)
    direction = models.CharField(max_length=3, choices=Message.Direction.choices)
    status = models.CharField(max_length=10, choices=Message.Status.choices)
    count = models.BigIntegerField()
    squashed = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["project_id", "day"], name="message_count_project_day"),
            models.Index(
                fields=["id"], condition=models.Q(squashed=False), name="message_count_unsquashed"
            ),
        ]

    def __str__(self) -> str:
        return f"project {self.project_id} {self.day} {self.status}: {self.count}"
