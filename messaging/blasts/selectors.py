"""Reads on blasts: progress, the list, one blast, its audience, its refusals, the preview."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from messaging.blasts.mapping import ValueSource, blast_value_resolve
from messaging.models import Blast, BlastRefusal, Contact, ContactGroup, Message
from projects.models import Project
from templates_app.models import TemplateLanguage
from templates_app.selectors import template_preview
from wappin_portal.errors import NotFound, ValidationFailed

# The refusal code `message_send_hsm` gives a contact who sent STOP (counted apart: "skipped").
OPTED_OUT_CODE = "contact_opted_out"


def blast_audience(*, blast: Blast) -> QuerySet[Contact]:
    """The contacts a blast is for: its group's, or all of the project's."""
    contacts = Contact.objects.filter(project_id=blast.project_id)
    if blast.group_id is not None:
        contacts = contacts.filter(groups__pk=blast.group_id)
    return contacts


@dataclass(frozen=True)
class BlastProgress:
    """Where a blast's contacts are: each message counted once, in its current status."""

    total: int
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    refused: int = 0
    opted_out: int = 0

    BAR_STATUSES = ("read", "delivered", "sent", "queued", "failed", "refused", "opted_out")

    @property
    def messages(self) -> int:
        return self.queued + self.sent + self.delivered + self.read + self.failed

    @property
    def processed(self) -> int:
        return self.messages + self.refused + self.opted_out

    @property
    def remaining(self) -> int:
        return max(self.total - self.processed, 0)

    def _percent(self, count: int) -> float:
        whole = max(self.total, self.processed)
        return round(100 * count / whole, 2) if whole else 0.0

    @property
    def percent_done(self) -> int:
        return round(self._percent(self.processed))

    @property
    def delivery_rate(self) -> int:
        return round(100 * (self.delivered + self.read) / self.messages) if self.messages else 0

    @property
    def read_rate(self) -> int:
        return round(100 * self.read / self.messages) if self.messages else 0

    @property
    def segments(self) -> list[dict]:
        """The stacked bar: one segment per status that has contacts, its width in percent of the audience."""
        return [
            {"status": status, "count": getattr(self, status), "percent": self._percent(getattr(self, status))}
            for status in self.BAR_STATUSES
            if getattr(self, status)
        ]


_MESSAGE_COUNTS = {
    "queued": Count("id", filter=Q(status__in=[Message.Status.QUEUED, Message.Status.UNKNOWN])),
    "sent": Count("id", filter=Q(status=Message.Status.SENT)),
    "delivered": Count("id", filter=Q(status=Message.Status.DELIVERED)),
    "read": Count("id", filter=Q(status=Message.Status.READ)),
    "failed": Count("id", filter=Q(status=Message.Status.FAILED)),
}
_REFUSAL_COUNTS = {
    "opted_out": Count("id", filter=Q(code=OPTED_OUT_CODE)),
    "refused": Count("id", filter=~Q(code=OPTED_OUT_CODE)),
}


def blast_progress_many(*, blasts: list[Blast]) -> dict[int, BlastProgress]:
    """Progress of several blasts: one aggregate query on their messages, one on their refusals."""
    ids = [blast.pk for blast in blasts]
    by_blast: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for row in Message.objects.filter(blast_id__in=ids).values("blast_id").annotate(**_MESSAGE_COUNTS).order_by():
        by_blast[row.pop("blast_id")].update(row)
    for row in BlastRefusal.objects.filter(blast_id__in=ids).values("blast_id").annotate(**_REFUSAL_COUNTS).order_by():
        by_blast[row.pop("blast_id")].update(row)
    progress = {}
    for blast in blasts:
        total = blast.audience_count
        if blast.status == Blast.Status.DRAFT:
            total = blast_audience(blast=blast).count()
        progress[blast.pk] = BlastProgress(total=total, **by_blast[blast.pk])
    return progress


def blast_progress(*, blast: Blast) -> BlastProgress:
    return blast_progress_many(blasts=[blast])[blast.pk]


def blast_list(*, project: Project) -> QuerySet[Blast]:
    return Blast.objects.filter(project=project).select_related("group", "created_by")


def blast_get(*, project: Project, blast_id: int) -> Blast:
    try:
        return Blast.objects.select_related("group", "created_by", "template").get(project=project, pk=blast_id)
    except (Blast.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such blast in this project.", code="blast_not_found") from exc


def blast_audience_first(*, project: Project, group: ContactGroup | None) -> Contact | None:
    """The contact a preview is made for: the audience's first (lowest id), as the blast will start."""
    contacts = Contact.objects.filter(project=project)
    if group is not None:
        contacts = contacts.filter(groups=group)
    return contacts.order_by("pk").first()


def blast_refusals_shown(*, blast: Blast, limit: int) -> tuple[list[BlastRefusal], int]:
    """The blast's first `limit` refusals (with their contacts), and how many more there are."""
    refusals = blast.refusals.select_related("contact")
    shown = list(refusals[:limit])
    more = max(refusals.count() - limit, 0) if len(shown) == limit else 0
    return shown, more


def blast_language(*, blast: Blast) -> TemplateLanguage | None:
    """The template language a blast sends, while its template still exists."""
    if not blast.template_id:
        return None
    return blast.template.languages.filter(language_code=blast.language_code).first()


def blast_preview(
    *,
    language: TemplateLanguage,
    params: dict | None,
    header_param: dict | None = None,
    button_url: dict | None = None,
    contact: Contact | None,
) -> dict:
    """The message one contact would get, and what is missing for them (a preview never raises)."""
    problems: list[str] = []

    def value(mapping: dict | None, slot: str) -> str | None:
        if not isinstance(mapping, dict) or mapping.get("source") not in ValueSource.values:
            return None
        if mapping["source"] in (ValueSource.FIXED, ValueSource.ATTRIBUTE) and not mapping.get("value"):
            return None
        if contact is None:
            return None if mapping["source"] != ValueSource.FIXED else mapping["value"]
        try:
            return blast_value_resolve(mapping=mapping, contact=contact, slot=slot)
        except ValidationFailed as error:
            problems.append(error.message)
            return None

    params = params or {}
    filled = {
        str(number): value(params.get(str(number)), str(number))
        for number in range(1, language.body_param_count + 1)
    }
    preview = template_preview(
        language=language,
        params=filled,
        header_param=value(header_param, "header_param") if language.header_has_param else None,
        button_url=value(button_url, "button_url") if language.url_button_has_param else None,
    )
    return {**preview, "contact": contact, "problems": problems}
