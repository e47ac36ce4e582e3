from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from projects.models import Project, TimeStampedModel

# ASCII digits only (WhatsApp reads no `{{１}}` or `{{٣}}`), and at most three: a body of
# 1024 characters cannot hold more variables, and `{{99999999999999999999}}` must not make
# the "numbered without gaps" check build a range of that size.
PLACEHOLDER_RE = re.compile(r"\{\{\s*([0-9]{1,3})\s*\}\}")
BODY_MAX_LENGTH = 1024

template_name_validator = RegexValidator(
    r"^[a-z0-9_]+$",
    _("Use lowercase letters, digits and '_' only, e.g. opening_message1."),
    code="template_name",
)


def placeholder_numbers(text: str) -> list[int]:
    """The numbers of the `{{n}}` placeholders in `text`, in order of appearance."""
    return [int(number) for number in PLACEHOLDER_RE.findall(text or "")]


class Template(TimeStampedModel):
    """An HSM template of a project, with one content per language."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ON_PROCESS = "on_process", _("On process")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        INACTIVE = "inactive", _("Inactive")

    class MessageType(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        UTILITY = "utility", _("Utility")
        AUTHENTICATION = "authentication", _("Authentication")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512, validators=[template_name_validator])
    message_type = models.CharField(
        max_length=20, choices=MessageType.choices, default=MessageType.UTILITY
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    rejection_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="template_unique_name_per_project"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_locked(self) -> bool:
        """Wappin: no edit once the submission is 'On Process' (nor after a decision)."""
        return self.status != self.Status.DRAFT and self.status != self.Status.REJECTED


class TemplateLanguage(models.Model):
    """The content of a template in one language. The first one (by position) is the default."""

    class HeaderType(models.TextChoices):
        # A context: the admin's catalogue (first in INSTALLED_APPS) leaves a bare "None" English.
        NONE = "none", pgettext_lazy("header type", "None")
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="languages")
    language_code = models.CharField(max_length=10)
    position = models.PositiveSmallIntegerField(default=0)
    header_type = models.CharField(
        max_length=10, choices=HeaderType.choices, default=HeaderType.NONE
    )
    header_text = models.CharField(max_length=60, blank=True)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    footer = models.CharField(max_length=60, blank=True)
    # [{"type": "url", "text": "Track", "url": "https://shop.example/track/{{1}}"},
    #  {"type": "quick_reply", "text": "Yes", "payload": "yes"}]
    buttons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["template", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "language_code"], name="template_language_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template.name} [{self.language_code}]"

    @property
    def body_param_count(self) -> int:
        """How many params a send must carry: the highest `{{n}}` of the body."""
        return max(placeholder_numbers(self.body), default=0)

    @property
    def header_has_param(self) -> bool:
        return self.header_type == self.HeaderType.TEXT and bool(
            placeholder_numbers(self.header_text)
        )

    @property
    def header_is_media(self) -> bool:
        return self.header_type in (self.HeaderType.IMAGE, self.HeaderType.DOCUMENT)

    @property
    def url_button_has_param(self) -> bool:
        return any(
            b.get("type") == "url" and placeholder_numbers(b.get("url", "")) for b in self.buttons
        )

    @property
    def quick_reply_count(self) -> int:
        return sum(1 for b in self.buttons if b.get("type") == "quick_reply")


class TemplateStatusChange(models.Model):
    """One step of a template's lifecycle: who moved it, when, and why."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Template.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Template.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.template} {self.from_status or '—'} → {self.to_status}"


class ChatbotKeyword(TimeStampedModel):
    """What the chatbot answers when a customer writes a keyword."""

    class Scenario(models.TextChoices):
        NORMAL = "normal", _("Normal")
        CHAT_PANEL = "chat_panel", _("Chat panel (hand over to a person)")

    class ResponseType(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")
        AUDIO = "audio", _("Audio")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="chatbot_keywords")
    template_name = models.CharField(max_length=100)
    scenario = models.CharField(max_length=20, choices=Scenario.choices, default=Scenario.NORMAL)
    response_type = models.CharField(
        max_length=20, choices=ResponseType.choices, default=ResponseType.TEXT
    )
    keyword = models.CharField(max_length=100)
    # The keyword as matched: lower case, inner spaces folded. Unique per project.
    normalized_keyword = models.CharField(max_length=100, editable=False)
    response_text = models.TextField(blank=True, max_length=4096)
    response_media = models.FileField(upload_to="chatbot/%Y/%m/", blank=True)
    caption = models.CharField(max_length=1024, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["keyword"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "normalized_keyword"], name="keyword_unique_per_project"
            )
        ]

    def __str__(self) -> str:
        return self.keyword
