"""Reads on blasts: progress and counts, reach, the list, one blast, its audience, recipients, refusals, the preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.blasts.mapping import ValueSource, blast_value_resolve
from messaging.models import Blast, BlastRefusal, Contact, ContactGroup, Message
from projects.models import Project
from templates_app.models import TemplateLanguage
from templates_app.selectors import template_preview
from wappin_portal.errors import NotFound, ValidationFailed

# The refusal code of a contact who sent STOP (counted apart: "skipped").
OPTED_OUT_CODE = "contact_opted_out"
# The refusal code of a contact Wappin answered 601 for before (not on WhatsApp).
NOT_ON_WHATSAPP_CODE = "not_on_whatsapp"


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
    cancelled: int = 0
    refused: int = 0
    opted_out: int = 0
    not_on_whatsapp: int = 0

    # A segment's words in its tooltip ("12 read").
    BAR_LABELS = {
        "read": gettext_lazy("read"),
        "delivered": gettext_lazy("delivered"),
        "sent": gettext_lazy("sent"),
        "queued": gettext_lazy("queued"),
        "failed": gettext_lazy("failed"),
        "cancelled": gettext_lazy("cancelled"),
        "refused": gettext_lazy("refused"),
        "opted_out": gettext_lazy("skipped (opted out)"),
        "not_on_whatsapp": gettext_lazy("skipped (not on WhatsApp)"),
    }
    BAR_STATUSES = (
        "read",
        "delivered",
        "sent",
        "queued",
        "failed",
        "cancelled",
        "refused",
        "opted_out",
        "not_on_whatsapp",
    )

    @property
    def messages(self) -> int:
        """Messages that went (or go) to Wappin: a cancelled one never did."""
        return self.queued + self.sent + self.delivered + self.read + self.failed

    @property
    def skipped(self) -> int:
        """Contacts that got no message: refused with a reason, opted out, or not on WhatsApp."""
        return self.refused + self.opted_out + self.not_on_whatsapp

    @property
    def processed(self) -> int:
        return self.messages + self.cancelled + self.skipped

    def counts(self) -> dict[str, int]:
        """The API's figures: each recipient once; `queued` holds sending and unknown ones,
        `refused` every contact that got no message (opted out and not on WhatsApp included)."""
        return {
            "total": self.total,
            "queued": self.queued,
            "sent": self.sent,
            "delivered": self.delivered,
            "read": self.read,
            "failed": self.failed,
            "refused": self.skipped,
            "cancelled": self.cancelled,
        }

    @property
    def settled(self) -> bool:
        """Every recipient has a final status: read, failed, cancelled or refused (none on its way)."""
        return not (self.queued or self.sent or self.delivered)

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
            {
                "status": status,
                "label": self.BAR_LABELS[status],
                "count": getattr(self, status),
                "percent": self._percent(getattr(self, status)),
            }
            for status in self.BAR_STATUSES
            if getattr(self, status)
        ]


_MESSAGE_COUNTS = {
    "queued": Count("id", filter=Q(status__in=Message.PENDING_STATUSES)),
    "sent": Count("id", filter=Q(status=Message.Status.SENT)),
    "delivered": Count("id", filter=Q(status=Message.Status.DELIVERED)),
    "read": Count("id", filter=Q(status=Message.Status.READ)),
    "failed": Count("id", filter=Q(status=Message.Status.FAILED)),
    "cancelled": Count("id", filter=Q(status=Message.Status.CANCELLED)),
}
_REFUSAL_COUNTS = {
    "opted_out": Count("id", filter=Q(code=OPTED_OUT_CODE)),
    "not_on_whatsapp": Count("id", filter=Q(code=NOT_ON_WHATSAPP_CODE)),
    "refused": Count("id", filter=~Q(code__in=[OPTED_OUT_CODE, NOT_ON_WHATSAPP_CODE])),
}


def blast_progress_many(*, blasts: list[Blast]) -> dict[int, BlastProgress]:
    """Progress of several blasts: one aggregate query on their messages, one on their refusals."""
    ids = [blast.pk for blast in blasts]
    by_blast: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for row in (
        Message.objects.filter(blast_id__in=ids)
        .values("blast_id")
        .annotate(**_MESSAGE_COUNTS)
        .order_by()
    ):
        by_blast[row.pop("blast_id")].update(row)
    for row in (
        BlastRefusal.objects.filter(blast_id__in=ids)
        .values("blast_id")
        .annotate(**_REFUSAL_COUNTS)
        .order_by()
    ):
        by_blast[row.pop("blast_id")].update(row)
    progress = {}
    for blast in blasts:
        total = blast.audience_count
        if blast.status in (Blast.Status.DRAFT, Blast.Status.SCHEDULED):
            total = blast_audience(blast=blast).count()
        progress[blast.pk] = BlastProgress(total=total, **by_blast[blast.pk])
    return progress


def blast_progress(*, blast: Blast) -> BlastProgress:
    return blast_progress_many(blasts=[blast])[blast.pk]


# The blast page's live progress asks again this often while the blast sends, and this
# often once it has ended (statuses still come: delivered, read).
BLAST_POLL_SECONDS_SENDING = 2
BLAST_POLL_SECONDS_ENDED = 5
# A recipient may never read (read receipts off): after this long the page stops asking.
BLAST_FOLLOW_AFTER_END = timedelta(hours=1)


def blast_poll_seconds(
    *, blast: Blast, progress: BlastProgress, now: datetime | None = None
) -> int | None:
    """How often the blast page's progress asks again; None once it is final (no more polling).

    A draft changes only by hand. An ended blast (done or cancelled) is followed until every
    recipient has a final status, or for `BLAST_FOLLOW_AFTER_END` after it ended."""
    if blast.status == Blast.Status.DRAFT:
        return None
    if blast.status == Blast.Status.RUNNING:
        return BLAST_POLL_SECONDS_SENDING
    if blast.status in (Blast.Status.SCHEDULED, Blast.Status.PAUSED):
        return BLAST_POLL_SECONDS_ENDED
    if progress.settled:
        return None
    ended = blast.finished_at or blast.cancelled_at
    if ended is not None and (now or timezone.now()) - ended > BLAST_FOLLOW_AFTER_END:
        return None
    return BLAST_POLL_SECONDS_ENDED


@dataclass(frozen=True)
class BlastReach:
    """Who of a blast's audience would get it, and why the others would not (the start confirmation)."""

    audience: int
    opted_out: int = 0
    not_on_whatsapp: int = 0
    missing_value: int = 0

    @property
    def reachable(self) -> int:
        return self.audience - self.opted_out - self.not_on_whatsapp - self.missing_value

    def explain(self) -> str:
        parts = [
            what % {"count": count}
            for count, what in (
                (self.opted_out, _("%(count)d opted out of marketing")),
                (self.not_on_whatsapp, _("%(count)d not on WhatsApp")),
                (self.missing_value, _("%(count)d lacking a value the template needs")),
            )
            if count
        ]
        return ", ".join(parts) or _("none can be reached")


def blast_reach(*, blast: Blast) -> BlastReach:
    """The audience as the expansion will see it, in one aggregate query: the opted out (of a marketing
    template), the numbers known not to be on WhatsApp, the contacts missing a mapped value; the rest."""
    from templates_app.models import Template

    contacts = blast_audience(blast=blast)
    marketing = (
        bool(blast.template_id) and blast.template.message_type == Template.MessageType.MARKETING
    )
    opted = Q(opted_out_at__isnull=False) if marketing else Q(pk__in=[])
    dead = Q(not_on_whatsapp_at__isnull=False) & ~opted
    lacking = Q(pk__in=[])
    mappings = [*blast.params.values(), blast.header_param, blast.button_url]
    for index, mapping in enumerate(m for m in mappings if m):
        if mapping.get("source") == Blast.ValueSource.NAME:
            lacking |= Q(name__regex=r"^\s*$")
        elif mapping.get("source") == Blast.ValueSource.ATTRIBUTE:
            alias = f"mapped_value_{index}"
            contacts = contacts.alias(
                **{alias: KeyTextTransform(mapping.get("value", ""), "attributes")}
            )
            lacking |= Q(**{f"{alias}__isnull": True}) | Q(**{f"{alias}__regex": r"^\s*$"})
    lacking &= ~opted & ~Q(not_on_whatsapp_at__isnull=False)
    figures = contacts.aggregate(
        audience=Count("pk"),
        opted_out=Count("pk", filter=opted),
        not_on_whatsapp=Count("pk", filter=dead),
        missing_value=Count("pk", filter=lacking),
    )
    return BlastReach(**figures)


def blast_reasons(*, blast: Blast, limit: int = 20) -> dict[str, list[dict]]:
    """Why recipients failed (Wappin's code and words) and why contacts were refused, most frequent first."""
    failed = (
        Message.objects.filter(blast=blast, status=Message.Status.FAILED)
        .values("failure_code")
        .annotate(count=Count("id"), reason=Min("failure_reason"))
        .order_by("-count", "failure_code")[:limit]
    )
    refused = (
        BlastRefusal.objects.filter(blast=blast)
        .values("code")
        .annotate(count=Count("id"), reason=Min("reason"))
        .order_by("-count", "code")[:limit]
    )
    return {
        "failed": [
            {"code": row["failure_code"], "reason": row["reason"], "count": row["count"]}
            for row in failed
        ],
        "refused": [
            {"code": row["code"], "reason": row["reason"], "count": row["count"]} for row in refused
        ],
    }


# A recipient's status as the blast's figures name it (sending and unknown count as queued).
RECIPIENT_STATUSES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "refused")


def blast_recipients(
    *, blast: Blast, status: str = ""
) -> tuple[QuerySet[Message], QuerySet[BlastRefusal]]:
    """The blast's recipients with their status: its messages, then its refusals (the API pages them in turn).

    `status` is one of RECIPIENT_STATUSES (queued holds sending and unknown), or "" for all.
    """
    messages = Message.objects.filter(blast=blast).select_related("contact").order_by("id")
    refusals = blast.refusals.select_related("contact").order_by("id")
    if status == "refused":
        messages = messages.none()
    elif status:
        refusals = refusals.none()
        wanted = Message.PENDING_STATUSES if status == "queued" else (status,)
        messages = messages.filter(status__in=wanted)
    return messages, refusals


def blast_refusals(*, blast: Blast) -> QuerySet[BlastRefusal]:
    return blast.refusals.select_related("contact").order_by("id")


def blast_recipient_csv_rows(*, blast: Blast):
    """The CSV of a blast's recipients: a header, then every message and every refusal, streamed."""
    from wappin_portal.csv_export import csv_safe

    yield [
        "phone_number",
        "name",
        "status",
        "reason",
        "wappin_message_id",
        "sent_at",
        "delivered_at",
        "read_at",
    ]
    messages = (
        Message.objects.filter(blast=blast)
        .order_by("id")
        .values_list(
            "phone_number",
            "contact__name",
            "status",
            "failure_code",
            "failure_reason",
            "wappin_message_id",
            "sent_at",
            "delivered_at",
            "read_at",
        )
    )
    for number, name, status, code, reason, wappin_id, sent, delivered, read in messages.iterator(
        chunk_size=2000
    ):
        shown = "queued" if status in Message.PENDING_STATUSES else status
        why = f"{code}: {reason}" if code else (reason if status in ("failed", "cancelled") else "")
        yield [
            csv_safe(number),
            csv_safe(name),
            shown,
            csv_safe(why),
            wappin_id,
            *(stamp.isoformat() if stamp else "" for stamp in (sent, delivered, read)),
        ]
    refusals = (
        BlastRefusal.objects.filter(blast=blast)
        .order_by("id")
        .values_list("phone_number", "contact__name", "code", "reason")
    )
    for number, name, code, reason in refusals.iterator(chunk_size=2000):
        yield [
            csv_safe(number),
            csv_safe(name),
            "refused",
            csv_safe(f"{code}: {reason}"),
            "",
            "",
            "",
            "",
        ]


def blast_list(*, project: Project) -> QuerySet[Blast]:
    return Blast.objects.filter(project=project).select_related("group", "created_by")


def blast_get(*, project: Project, blast_id: int) -> Blast:
    try:
        return Blast.objects.select_related("group", "created_by", "template").get(
            project=project, pk=blast_id
        )
    except (Blast.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("No such blast in this project."), code="blast_not_found") from exc


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
        if mapping["source"] in (ValueSource.FIXED, ValueSource.ATTRIBUTE) and not mapping.get(
            "value"
        ):
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
