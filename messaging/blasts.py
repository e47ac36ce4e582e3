"""Blasts: one approved template sent to a contact group (or every contact), one message per contact.

Services (writes) and selectors (reads) of blasts live together here, as the
`# Blasts` part of the messaging app: `blast_create`, `blast_start`,
`blast_expand_batch` (the body of the `blast_expand` task), `blast_cancel`;
`blast_progress`, `blast_list`, `blast_get`, `blast_preview`.

How a blast runs: `blast_start` checks the whole blast first (template
approved, every `{{n}}` mapped, the media a media header needs, an audience, an
integration), then enqueues `blast_expand`. Each run of that task takes the
next BATCH_SIZE contacts by id after the blast's cursor, in one transaction,
and queues one message per contact through `message_send_hsm` (the one path
for a template send: its checks, the outbox row, the send task on commit). A
contact that cannot get its message (opted out of a marketing template, a
param its row lacks, an invalid number) gets a `BlastRefusal` with the reason,
and the blast goes on. The cursor, the row lock and the unique
(blast, contact) on messages and refusals make a second run of the same batch
send nothing twice. A cancelled blast stops at the next batch, and its messages
not yet handed to Wappin are failed with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from messaging import services
from messaging.models import Blast, BlastRefusal, Contact, ContactGroup, Message, MessageStatusEvent
from projects.models import Integration, Project
from templates_app.media import media_check
from templates_app.models import TemplateLanguage
from templates_app.selectors import (
    template_language_resolve,
    template_preview,
    template_send_params_check,
)
from wappin_portal.errors import ApplicationError, Conflict, NotFound, ValidationFailed

logger = logging.getLogger(__name__)

# Contacts per transaction of the expansion: small enough for short locks, large enough to be quick.
BATCH_SIZE = 500
MEDIA_BATCH_SIZE = 100
# A running blast whose next batch has not run for this long lost its task (a worker died, the
# broker dropped it): `blasts_resume_stalled` enqueues it again, which the cursor makes safe.
STALLED_AFTER = timezone.timedelta(minutes=10)
# The refusal code `message_send_hsm` gives a contact who sent STOP (counted apart: "skipped").
OPTED_OUT_CODE = "contact_opted_out"
CANCELLED_REASON = "The blast was cancelled before this message was sent."
ValueSource = Blast.ValueSource


# --- Mapping a template's variables to values -------------------------------------------


def _slot_label(slot: str) -> str:
    """'1' -> '{{1}}', 'header_param' -> 'the header {{1}}', 'button_url' -> 'the URL button {{1}}'."""
    if slot == "header_param":
        return "the header {{1}}"
    if slot == "button_url":
        return "the URL button {{1}}"
    return f"{{{{{slot}}}}}"


def _mapping_clean(mapping, *, slot: str, errors: dict[str, list[str]]) -> dict:
    """A mapping {"source", "value"} as stored, or an error on the slot's form field."""
    field = f"param_{slot}" if slot.isdigit() else slot
    if not isinstance(mapping, dict) or mapping.get("source") not in ValueSource.values:
        errors.setdefault(field, []).append(f"Choose where {_slot_label(slot)} comes from.")
        return {}
    source = mapping["source"]
    value = str(mapping.get("value") or "").strip()
    if source == ValueSource.FIXED and not value:
        errors.setdefault(field, []).append(f"Type the text for {_slot_label(slot)}.")
    elif source == ValueSource.ATTRIBUTE and not value:
        errors.setdefault(field, []).append(
            f"Type the name of the contact attribute for {_slot_label(slot)} (e.g. city)."
        )
    if source in (ValueSource.NAME, ValueSource.PHONE):
        value = ""
    return {"source": source, "value": value}


def _sample(mapping: dict) -> str:
    """A stand-in value to check the mapping's shape against the template (a field's value varies per contact)."""
    return mapping["value"] if mapping.get("source") == ValueSource.FIXED else f"[{mapping.get('source')}]"


def blast_value_resolve(*, mapping: dict, contact: Contact, slot: str) -> str:
    """The value a mapping gives for one contact; a contact that lacks it is refused with the reason."""
    source = mapping.get("source")
    key = mapping.get("value", "")
    if source == ValueSource.FIXED:
        return key
    if source == ValueSource.PHONE:
        return contact.phone_number
    if source == ValueSource.NAME:
        value, what = contact.name, "no name"
    else:
        raw = (contact.attributes or {}).get(key) if isinstance(contact.attributes, dict) else None
        value, what = ("" if raw is None else str(raw)), f"no '{key}' attribute"
    if not str(value).strip():
        raise ValidationFailed(
            f"The contact has {what}, needed for {_slot_label(slot)}.",
            field=f"param_{slot}" if slot.isdigit() else slot,
            code="contact_value_missing",
        )
    return str(value).strip()


@dataclass(frozen=True)
class BlastPlan:
    """A blast's checked content: the template language and the cleaned mappings."""

    language: TemplateLanguage
    params: dict
    header_param: dict
    button_url: dict


def blast_plan_check(
    *,
    project: Project,
    template_name: str,
    language_code: str = "",
    params: dict | None,
    header_param: dict | None = None,
    button_url: dict | None = None,
    media: File | None = None,
    group: ContactGroup | None = None,
) -> BlastPlan:
    """Check a blast's content against its template before anything is sent.

    Field errors are keyed by the blast form's fields: `template`, `param_<n>`,
    `header_param`, `button_url`, `media`, `group`. The template checks are the
    templates app's own (`template_language_resolve`, `template_send_params_check`),
    run with a stand-in value for each contact field.
    """
    try:
        language = template_language_resolve(
            project=project, template_name=template_name, language_code=language_code
        )
    except ApplicationError as error:
        raise ValidationFailed(error.message, field="template", code=error.code) from error
    if group is not None and group.project_id != project.pk:
        raise ValidationFailed("Choose one of this project's groups.", field="group", code="group_not_found")
    errors: dict[str, list[str]] = {}
    params = params or {}
    cleaned_params = {
        str(number): _mapping_clean(params.get(str(number)), slot=str(number), errors=errors)
        for number in range(1, language.body_param_count + 1)
    }
    cleaned_header = (
        _mapping_clean(header_param, slot="header_param", errors=errors) if language.header_has_param else {}
    )
    cleaned_button = (
        _mapping_clean(button_url, slot="button_url", errors=errors) if language.url_button_has_param else {}
    )
    if not errors:
        try:
            template_send_params_check(
                language=language,
                params={number: _sample(mapping) for number, mapping in cleaned_params.items()},
                header_param=_sample(cleaned_header) if cleaned_header else None,
                button_url=_sample(cleaned_button) if cleaned_button else None,
                reply_payloads=None,
                has_media=bool(media),
            )
        except ValidationFailed as error:
            for field, messages in (error.fields or {"": [error.message]}).items():
                errors.setdefault("param_1" if field == "params" else field, []).extend(messages)
    if media and language.header_is_media and "media" not in errors:
        try:
            media_check(
                media_type=language.header_type,
                filename=(media.name or "").rsplit("/", 1)[-1],
                size=media.size,
                content_type=getattr(media, "content_type", None),
            )
        except ValidationFailed as error:
            errors.setdefault("media", []).append(error.message)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, fields=errors, code="blast_invalid")
    return BlastPlan(
        language=language, params=cleaned_params, header_param=cleaned_header, button_url=cleaned_button
    )


# --- Services -------------------------------------------------------------------------------


def blast_create(
    *,
    project: Project,
    name: str,
    template_name: str,
    language_code: str = "",
    group: ContactGroup | None,
    params: dict | None,
    header_param: dict | None = None,
    button_url: dict | None = None,
    media: File | None = None,
    created_by: AbstractBaseUser | None = None,
) -> Blast:
    """A draft blast, checked as `blast_start` will check it: a person fixes it before anyone gets it."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the blast a name.", field="name", code="name_required")
    plan = blast_plan_check(
        project=project,
        template_name=template_name,
        language_code=language_code,
        params=params,
        header_param=header_param,
        button_url=button_url,
        media=media,
        group=group,
    )
    blast = Blast(
        project=project,
        name=name[:120],
        template=plan.language.template,
        template_name=plan.language.template.name,
        language_code=plan.language.language_code,
        group=group,
        params=plan.params,
        header_param=plan.header_param,
        button_url=plan.button_url,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    if media:
        blast.media.save((media.name or "media").rsplit("/", 1)[-1], media, save=False)
    blast.save()
    return blast


def _blast_audience(*, blast: Blast) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(project_id=blast.project_id)
    if blast.group_id is not None:
        contacts = contacts.filter(groups__pk=blast.group_id)
    return contacts


def _enqueue_expand(blast_id: int) -> None:
    from messaging.tasks import blast_expand  # tasks import this module

    blast_expand.delay(blast_id)


def blast_start(*, blast_id: int) -> Blast:
    """Check the whole blast again (the template may have changed since the draft), then start sending."""
    with transaction.atomic():
        blast = Blast.objects.select_for_update(of=("self",)).select_related("project", "group").get(pk=blast_id)
        if blast.status != Blast.Status.DRAFT:
            raise Conflict(
                f"This blast is {blast.get_status_display().lower()}: only a draft can be started.",
                code="blast_not_draft",
            )
        blast_plan_check(
            project=blast.project,
            template_name=blast.template_name,
            language_code=blast.language_code,
            params=blast.params,
            header_param=blast.header_param,
            button_url=blast.button_url,
            media=blast.media or None,
            group=blast.group,
        )
        # No integration means no message could go: say it once, not once per contact.
        services._integration_pick(project=blast.project, kind=Integration.Kind.NOTIFICATION)
        audience = _blast_audience(blast=blast).count()
        if not audience:
            raise Conflict(
                f"{blast.group.name if blast.group else 'This project'} has no contacts: nobody would get this blast.",
                code="blast_audience_empty",
                field="group",
            )
        blast.status = Blast.Status.RUNNING
        blast.audience_count = audience
        blast.started_at = timezone.now()
        blast.save(update_fields=["status", "audience_count", "started_at", "updated_at"])
        transaction.on_commit(lambda: _enqueue_expand(blast.pk), robust=True)
    return blast


def _blast_send_one(*, blast: Blast, contact: Contact, media: File | None) -> None:
    """Queue the blast's message to one contact, or record why it gets none (the blast goes on)."""
    try:
        # A savepoint per contact: a refusal or a clash undoes this contact's rows only.
        with transaction.atomic():
            params = {
                slot: blast_value_resolve(mapping=mapping, contact=contact, slot=slot)
                for slot, mapping in blast.params.items()
            }
            header = button = None
            if blast.header_param:
                header = blast_value_resolve(mapping=blast.header_param, contact=contact, slot="header_param")
            if blast.button_url:
                button = blast_value_resolve(mapping=blast.button_url, contact=contact, slot="button_url")
            services.message_send_hsm(
                project=blast.project,
                phone_number=contact.phone_number,
                template_name=blast.template_name,
                language_code=blast.language_code,
                params=params,
                header_param=header,
                button_url=button,
                media=media,
                source=Message.Source.BLAST,
                sent_by=blast.created_by,
                blast=blast,
            )
        return
    except IntegrityError:
        # Another run of this batch got there first: the contact has its message already.
        logger.info("blast %s: contact %s already has its message", blast.pk, contact.pk)
        return
    except ApplicationError as error:
        code, reason = error.code, error.message
    except Exception:
        # One bad row must never stop the others; the log has the details.
        logger.exception("blast %s: could not queue the message to contact %s", blast.pk, contact.pk)
        code, reason = "internal_error", "An unexpected error stopped this message; the portal's log has the details."
    with transaction.atomic():
        BlastRefusal.objects.get_or_create(
            blast=blast, contact=contact,
            defaults={"phone_number": contact.phone_number, "code": code[:50], "reason": reason},
        )


def blast_expand_batch(*, blast_id: int, batch_size: int | None = None) -> bool:
    """Queue the messages of the next `batch_size` contacts (by id) of a running blast, in one transaction.

    Returns whether a further batch was enqueued. Run twice, a batch sends
    nothing twice: the row lock and the cursor skip what a finished run did,
    and the contacts that already have a message or a refusal are left out.
    """
    with transaction.atomic():
        # of=self: Postgres refuses FOR UPDATE on the nullable side of the created_by join.
        blast = (
            Blast.objects.select_for_update(of=("self",)).select_related("project", "created_by").get(pk=blast_id)
        )
        if blast.status != Blast.Status.RUNNING:
            return False
        # Each media message keeps its own copy of the file: fewer per transaction keeps a batch short.
        batch_size = batch_size or (MEDIA_BATCH_SIZE if blast.media else BATCH_SIZE)
        contacts = list(
            _blast_audience(blast=blast).filter(pk__gt=blast.last_contact_id).order_by("pk")[:batch_size]
        )
        done = set(
            Message.objects.filter(blast=blast, contact__in=contacts).values_list("contact_id", flat=True)
        ) | set(BlastRefusal.objects.filter(blast=blast, contact__in=contacts).values_list("contact_id", flat=True))
        media = blast.media.open("rb") if blast.media else None
        try:
            for contact in contacts:
                if contact.pk not in done:
                    _blast_send_one(blast=blast, contact=contact, media=media)
        finally:
            if media is not None:
                media.close()
        fields = ["last_contact_id", "updated_at"]
        if contacts:
            blast.last_contact_id = contacts[-1].pk
        more = len(contacts) == batch_size
        if not more:
            blast.status = Blast.Status.DONE
            blast.finished_at = timezone.now()
            fields += ["status", "finished_at"]
        blast.save(update_fields=fields)
        if more:
            transaction.on_commit(lambda: _enqueue_expand(blast.pk), robust=True)
    return more


def blasts_resume_stalled(*, now=None) -> int:
    """Enqueue the next batch of every running blast that has not moved for STALLED_AFTER."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    ids = list(
        Blast.objects.filter(status=Blast.Status.RUNNING, updated_at__lt=cutoff).values_list("pk", flat=True)
    )
    for blast_id in ids:
        transaction.on_commit(lambda blast_id=blast_id: _enqueue_expand(blast_id), robust=True)
    return len(ids)


def blast_cancel(*, blast_id: int) -> Blast:
    """Stop a blast: no further batch, and its messages not yet handed to Wappin are failed with the reason.

    Messages Wappin already has cannot be called back; they keep their status.
    """
    with transaction.atomic():
        blast = Blast.objects.select_for_update().get(pk=blast_id)
        if blast.status not in (Blast.Status.DRAFT, Blast.Status.RUNNING):
            raise Conflict(
                f"This blast is {blast.get_status_display().lower()} already: there is nothing to cancel.",
                code="blast_not_running",
            )
        blast.status = Blast.Status.CANCELLED
        blast.cancelled_at = blast.finished_at = timezone.now()
        blast.save(update_fields=["status", "cancelled_at", "finished_at", "updated_at"])
    waiting = Message.objects.filter(blast=blast, status=Message.Status.QUEUED, send_attempts=0)
    for message_id in waiting.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            # Claim it the way the send task does, so a send that starts now finds it taken.
            claimed = Message.objects.filter(
                pk=message_id, status=Message.Status.QUEUED, send_attempts=0
            ).update(send_attempts=1, updated_at=timezone.now())
            if claimed:
                services.message_status_record(
                    message_id=message_id,
                    status=Message.Status.FAILED,
                    source=MessageStatusEvent.Source.PORTAL,
                    detail=CANCELLED_REASON,
                    failure_code="blast_cancelled",
                )
    return blast


# --- Selectors ------------------------------------------------------------------------------


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
            total = _blast_audience(blast=blast).count()
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
