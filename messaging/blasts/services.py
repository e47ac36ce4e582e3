"""Blasts: one approved template sent to a contact group (or every contact), one message per contact.

Writes on blasts: `blast_create`, `blast_start`, `blast_expand_batch` (the body
of the `blast_expand` task), `blasts_resume_stalled`, `blast_cancel`. The reads
(progress, list, preview) are `selectors.py`; the mapping of a template's
variables to contact fields is `mapping.py`.

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

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.blasts.mapping import blast_plan_check, blast_value_resolve
from messaging.blasts.selectors import blast_audience
from messaging.models import Blast, BlastRefusal, Contact, ContactGroup, Message, MessageStatusEvent
from messaging.sending.services import integration_pick, message_send_hsm, message_status_record
from projects.models import Integration, Project
from wappin_portal.errors import ApplicationError, Conflict, ValidationFailed

logger = logging.getLogger(__name__)

# Contacts per transaction of the expansion: small enough for short locks, large enough to be quick.
BATCH_SIZE = 500
MEDIA_BATCH_SIZE = 100
# A running blast whose next batch has not run for this long lost its task (a worker died, the
# broker dropped it): `blasts_resume_stalled` enqueues it again, which the cursor makes safe.
STALLED_AFTER = timezone.timedelta(minutes=10)
CANCELLED_REASON = "The blast was cancelled before this message was sent."


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


def blast_start(*, blast_id: int) -> Blast:
    """Check the whole blast again (the template may have changed since the draft), then start sending."""
    from messaging.blasts import tasks  # the tasks module imports this one

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
        integration_pick(project=blast.project, kind=Integration.Kind.NOTIFICATION)
        audience = blast_audience(blast=blast).count()
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
        tasks.blast_expand.delay_on_commit(blast.pk)
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
            message_send_hsm(
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
    from messaging.blasts import tasks  # the tasks module imports this one

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
            blast_audience(blast=blast).filter(pk__gt=blast.last_contact_id).order_by("pk")[:batch_size]
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
            tasks.blast_expand.delay_on_commit(blast.pk)
    return more


def blasts_resume_stalled(*, now=None) -> int:
    """Enqueue the next batch of every running blast that has not moved for STALLED_AFTER."""
    from messaging.blasts import tasks  # the tasks module imports this one

    cutoff = (now or timezone.now()) - STALLED_AFTER
    ids = list(
        Blast.objects.filter(status=Blast.Status.RUNNING, updated_at__lt=cutoff).values_list("pk", flat=True)
    )
    for blast_id in ids:
        tasks.blast_expand.delay_on_commit(blast_id)
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
                message_status_record(
                    message_id=message_id,
                    status=Message.Status.FAILED,
                    source=MessageStatusEvent.Source.PORTAL,
                    detail=CANCELLED_REASON,
                    failure_code="blast_cancelled",
                )
    return blast
