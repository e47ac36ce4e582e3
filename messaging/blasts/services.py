"""Blasts: one approved template sent to a contact group (or every contact), one message per contact.

Writes on blasts: `blast_create`, `blast_update`, `blast_delete` (drafts), `blast_start`
(now, or at `scheduled_at`), `blast_pause`, `blast_resume`, `blast_cancel`, and the
background work: `blast_expand_batch` (the `blast_expand` task), `blasts_tick` (starts
due blasts, finishes settled ones), `blasts_finish`, `blasts_resume_stalled`. The reads
(progress, reach, recipients) are `selectors.py`; the mapping of a template's variables
to contact fields is `mapping.py`.

How a blast runs. `blast_start` checks the whole blast (template approved, every `{{n}}`
mapped, the media a media header needs, an integration with credentials, somebody to
reach) and either schedules it or sets it `running` and enqueues `blast_expand` (on the
`blasts` queue). The expansion is set-based: what is the same for every recipient (the
template language, the integration) is checked once per batch; each batch loads
BATCH_SIZE contacts after the blast's cursor as plain tuples, resolves their values in
Python, refuses in bulk the ones that cannot get the message (a value missing, an
invalid number, opted out of marketing, known not to be on WhatsApp), and writes the
others' messages (`queued`) and their first timeline steps with two bulk INSERTs, in the
transaction that moves the cursor. It then wakes the sending engine once for the batch
(`send_queue_wake_on_commit`): no task per message. The row lock, the cursor and the
unique (blast, contact) of messages and refusals make a second run of a batch send
nothing twice.

Statuses: draft -> scheduled -> running <-> paused -> done, or cancelled from any but
done. A blast is `done` when every contact had its turn (`expanded_at`) and none of its
messages is queued, sending or unknown (`Message.PENDING_STATUSES`): what is left can
only be moved by Wappin's callbacks (sent -> delivered -> read, or failed). Pausing
stops the expansion and, because `paused` is not in the engine's
SENDABLE_BLAST_STATUSES, the sending of its queued messages at the next wave.
Cancelling turns its queued messages `cancelled`: never sent, never counted as failed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.blasts.mapping import ValueSource, blast_plan_check, blast_value_missing_reason
from messaging.blasts.selectors import (
    NOT_ON_WHATSAPP_CODE,
    OPTED_OUT_CODE,
    blast_audience,
    blast_reach,
)
from messaging.models import Blast, BlastRefusal, ContactGroup, Message, MessageStatusEvent
from messaging.sending.engine import send_queue_wake_on_commit
from messaging.sending.services import PARAM_MAX_LENGTH, integration_pick
from messaging.webhook_events import blast_webhook_event, message_webhook_event
from projects.models import ApiKey, Integration, Project
from projects.roles import capability_require
from projects.services import audit_record
from projects.webhooks.models import WebhookEventType
from projects.webhooks.services import webhook_events_emit
from templates_app.models import Template, TemplateLanguage
from templates_app.selectors import template_language_resolve
from wappin_portal.errors import ApplicationError, Conflict, ValidationFailed

logger = logging.getLogger(__name__)

# Contacts per transaction of the expansion: two bulk INSERTs of this many rows stay short.
BATCH_SIZE = 1000
# A running blast whose next batch has not run for this long lost its task (a worker died, the
# broker dropped it): `blasts_resume_stalled` enqueues it again, which the cursor makes safe.
STALLED_AFTER = timezone.timedelta(minutes=10)
CANCELLED_REASON = "The blast was cancelled before this message was sent."
# A stored number (digits only, as the normaliser writes it) Wappin can take: E.164's 8-15 digits.
_NUMBER = re.compile(r"[1-9][0-9]{7,14}")
_UNSET = object()


def _require_role(
    *, actor: AbstractBaseUser | None, api_key: ApiKey | None, project: Project
) -> None:
    """The caller's role must hold `blast.run` (projects.roles); None and None is the portal."""
    capability_require(project=project, capability="blast.run", actor=actor, api_key=api_key)


def _audit(
    *, action: str, blast: Blast, actor, api_key: ApiKey | None, data: dict | None = None
) -> None:
    audit_record(
        action=action,
        project=blast.project,
        actor=actor if getattr(actor, "pk", None) is not None else None,
        api_key=api_key,
        target=f"{blast.pk} {blast.name}",
        data={"status": blast.status, **(data or {})},
    )


def _scheduled_check(
    scheduled_at: datetime | None, *, now: datetime | None = None
) -> datetime | None:
    if scheduled_at is None:
        return None
    if timezone.is_naive(scheduled_at):
        # A date and time typed without a zone is the project's local time (the portal's zone).
        scheduled_at = timezone.make_aware(scheduled_at)
    if scheduled_at < (now or timezone.now()):
        raise ValidationFailed(
            _(
                "The time to send it has passed already: choose a later one, or none to start it "
                "by hand."
            ),
            field="scheduled_at",
            code="scheduled_at_past",
        )
    return scheduled_at


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
    scheduled_at: datetime | None = None,
    created_by: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Blast:
    """A draft blast, checked as `blast_start` will check it: a person fixes it before anyone gets it."""
    _require_role(actor=created_by, api_key=api_key, project=project)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the blast a name."), field="name", code="name_required")
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
        scheduled_at=_scheduled_check(scheduled_at),
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    if media:
        blast.media.save((media.name or "media").rsplit("/", 1)[-1], media, save=False)
    blast.save()
    _audit(action="blast.create", blast=blast, actor=created_by, api_key=api_key)
    return blast


def _locked(blast_id: int) -> Blast:
    # of=self: PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    return (
        Blast.objects.select_for_update(of=("self",))
        .select_related("project", "group", "created_by")
        .get(pk=blast_id)
    )


def _refuse_unless(blast: Blast, statuses: tuple[str, ...], *, doing: str, code: str) -> None:
    if blast.status not in statuses:
        raise Conflict(
            _("This blast is %(status)s: it cannot be %(doing)s.")
            % {"status": str(blast.get_status_display()).lower(), "doing": doing},
            code=code,
        )


def blast_update(
    *,
    blast_id: int,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    name=_UNSET,
    template_name=_UNSET,
    language_code=_UNSET,
    group=_UNSET,
    params=_UNSET,
    header_param=_UNSET,
    button_url=_UNSET,
    media=_UNSET,
    scheduled_at=_UNSET,
) -> Blast:
    """Change a draft: what is given replaces what it had, and the whole is checked again."""
    with transaction.atomic():
        blast = _locked(blast_id)
        _require_role(actor=actor, api_key=api_key, project=blast.project)
        _refuse_unless(
            blast,
            (Blast.Status.DRAFT,),
            doing=_("edited (only a draft can)"),
            code="blast_not_draft",
        )

        def given(value, current):
            return current if value is _UNSET else value

        template_changed = template_name is not _UNSET and template_name != blast.template_name
        new_name = (given(name, blast.name) or "").strip()
        if not new_name:
            raise ValidationFailed(_("Give the blast a name."), field="name", code="name_required")
        new_media = given(media, blast.media or None)
        plan = blast_plan_check(
            project=blast.project,
            template_name=given(template_name, blast.template_name),
            language_code=given(language_code, "" if template_changed else blast.language_code),
            params=given(params, blast.params),
            header_param=given(header_param, blast.header_param),
            button_url=given(button_url, blast.button_url),
            media=new_media,
            group=given(group, blast.group),
        )
        blast.name = new_name[:120]
        blast.template = plan.language.template
        blast.template_name = plan.language.template.name
        blast.language_code = plan.language.language_code
        blast.group = given(group, blast.group)
        blast.params, blast.header_param, blast.button_url = (
            plan.params,
            plan.header_param,
            plan.button_url,
        )
        if scheduled_at is not _UNSET:
            blast.scheduled_at = _scheduled_check(scheduled_at)
        if media is not _UNSET:
            if media:
                blast.media.save((media.name or "media").rsplit("/", 1)[-1], media, save=False)
            else:
                blast.media = None
        blast.status_reason = ""
        blast.save()
        _audit(action="blast.update", blast=blast, actor=actor, api_key=api_key)
    return blast


def blast_delete(
    *, blast_id: int, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> None:
    """Delete a draft; a blast that started keeps its figures (cancel it instead)."""
    with transaction.atomic():
        blast = _locked(blast_id)
        _require_role(actor=actor, api_key=api_key, project=blast.project)
        _refuse_unless(
            blast,
            (Blast.Status.DRAFT,),
            doing=_("deleted (only a draft can; cancel it instead)"),
            code="blast_not_draft",
        )
        _audit(action="blast.delete", blast=blast, actor=actor, api_key=api_key)
        blast.delete()


def _start_checks(blast: Blast) -> Integration:
    """Everything a person can fix before anybody gets the blast; the integration it goes through."""
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
    integration = integration_pick(project=blast.project, kind=Integration.Kind.NOTIFICATION)
    reach = blast_reach(blast=blast)
    audience_name = blast.group.name if blast.group else _("This project")
    if not reach.audience:
        raise Conflict(
            _("%(audience)s has no contacts: nobody would get this blast.")
            % {"audience": audience_name},
            code="blast_audience_empty",
            field="group",
        )
    if not reach.reachable:
        raise Conflict(
            _("None of the %(audience)s contacts would get this blast (%(why)s).")
            % {"audience": reach.audience, "why": reach.explain()},
            code="blast_audience_unreachable",
            field="group",
        )
    return integration


def _run(blast: Blast, *, now: datetime) -> None:
    """Start sending now (the caller holds the blast's row lock and has run the checks)."""
    from messaging.blasts import tasks  # the tasks module imports this one

    blast.status = Blast.Status.RUNNING
    blast.audience_count = blast_audience(blast=blast).count()
    blast.started_at = now
    blast.status_reason = ""
    blast.save(
        update_fields=["status", "audience_count", "started_at", "status_reason", "updated_at"]
    )
    webhook_events_emit(
        [
            blast_webhook_event(
                blast=blast, event_type=WebhookEventType.BLAST_STARTED, occurred_at=now
            )
        ]
    )
    tasks.blast_expand.delay_on_commit(blast.pk)


def blast_start(
    *,
    blast_id: int,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    now: datetime | None = None,
) -> Blast:
    """Check the whole blast again (the template may have changed since the draft), then start it.

    A draft with a `scheduled_at` still to come becomes `scheduled` (the blasts tick starts
    it then, checking it once more); otherwise it starts sending now.
    """
    now = now or timezone.now()
    with transaction.atomic():
        blast = _locked(blast_id)
        _require_role(actor=actor, api_key=api_key, project=blast.project)
        _refuse_unless(
            blast,
            (Blast.Status.DRAFT,),
            doing=_("started (only a draft can)"),
            code="blast_not_draft",
        )
        _start_checks(blast)
        if blast.scheduled_at is not None and blast.scheduled_at > now:
            blast.status = Blast.Status.SCHEDULED
            blast.status_reason = ""
            blast.save(update_fields=["status", "status_reason", "updated_at"])
            _audit(
                action="blast.schedule",
                blast=blast,
                actor=actor,
                api_key=api_key,
                data={"scheduled_at": blast.scheduled_at.isoformat()},
            )
        else:
            _run(blast, now=now)
            _audit(
                action="blast.start",
                blast=blast,
                actor=actor,
                api_key=api_key,
                data={"audience": blast.audience_count},
            )
    return blast


def blasts_start_due(*, now: datetime | None = None) -> int:
    """Start the scheduled blasts whose time has come; one that no longer passes its checks goes back to draft."""
    now = now or timezone.now()
    started = 0
    due = Blast.objects.filter(status=Blast.Status.SCHEDULED, scheduled_at__lte=now).values_list(
        "pk", flat=True
    )
    for blast_id in list(due[:100]):
        with transaction.atomic():
            blast = _locked(blast_id)
            if blast.status != Blast.Status.SCHEDULED:
                continue
            try:
                with transaction.atomic():
                    _start_checks(blast)
            except ApplicationError as error:
                blast.status = Blast.Status.DRAFT
                blast.status_reason = f"It could not start at its time: {error.message}"[:500]
                blast.save(update_fields=["status", "status_reason", "updated_at"])
                _audit(
                    action="blast.start_failed",
                    blast=blast,
                    actor=None,
                    api_key=None,
                    data={"reason": error.message},
                )
                continue
            _run(blast, now=now)
            _audit(
                action="blast.start",
                blast=blast,
                actor=None,
                api_key=None,
                data={
                    "audience": blast.audience_count,
                    "scheduled_at": blast.scheduled_at.isoformat(),
                },
            )
            started += 1
    return started


def blast_pause(
    *, blast_id: int, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> Blast:
    """Stop a running blast: no further batch, and the engine takes none of its queued messages from
    its next wave on (the ones already handed to Wappin cannot be called back)."""
    with transaction.atomic():
        blast = _locked(blast_id)
        _require_role(actor=actor, api_key=api_key, project=blast.project)
        _refuse_unless(
            blast,
            (Blast.Status.RUNNING,),
            doing=_("paused (only a sending one can)"),
            code="blast_not_running",
        )
        blast.status = Blast.Status.PAUSED
        blast.paused_at = timezone.now()
        blast.save(update_fields=["status", "paused_at", "updated_at"])
        _audit(action="blast.pause", blast=blast, actor=actor, api_key=api_key)
    return blast


def _integrations_waiting(blast: Blast) -> list[int]:
    return list(
        Message.objects.filter(blast=blast, status=Message.Status.QUEUED, integration__isnull=False)
        .values_list("integration_id", flat=True)
        .distinct()
        .order_by()
    )


def blast_resume(
    *, blast_id: int, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> Blast:
    """Go on with a paused blast: its queued messages are sent, the contacts left get theirs."""
    from messaging.blasts import tasks  # the tasks module imports this one

    with transaction.atomic():
        blast = _locked(blast_id)
        _require_role(actor=actor, api_key=api_key, project=blast.project)
        _refuse_unless(
            blast,
            (Blast.Status.PAUSED,),
            doing=_("resumed (only a paused one can)"),
            code="blast_not_paused",
        )
        blast.status = Blast.Status.RUNNING
        blast.paused_at = None
        blast.status_reason = ""
        blast.save(update_fields=["status", "paused_at", "status_reason", "updated_at"])
        _audit(action="blast.resume", blast=blast, actor=actor, api_key=api_key)
        if blast.expanded_at is None:
            tasks.blast_expand.delay_on_commit(blast.pk)
        for integration_id in _integrations_waiting(blast):
            send_queue_wake_on_commit(
                integration_id=integration_id, dispatchers=settings.SEND_DISPATCHERS_PER_INTEGRATION
            )
        blasts_finish(blast_ids={blast.pk})
    blast.refresh_from_db()
    return blast


def _queued_cancel(*, blast_ids: list[int]) -> int:
    """Turn the still-queued messages of cancelled blasts `cancelled`, each with its timeline step.

    The engine claims with FOR UPDATE SKIP LOCKED and marks `sending` in the same
    transaction, so a row it holds is not `queued` any more once this reads it.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.filter(blast_id__in=blast_ids, status=Message.Status.QUEUED)
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            status=Message.Status.CANCELLED,
            failure_reason=CANCELLED_REASON,
            next_attempt_at=None,
            updated_at=now,
        )
        MessageStatusEvent.objects.bulk_create(
            [
                MessageStatusEvent(
                    message_id=message_id,
                    status=Message.Status.CANCELLED,
                    source=MessageStatusEvent.Source.PORTAL,
                    occurred_at=now,
                    detail=CANCELLED_REASON,
                )
                for message_id in ids
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
    return len(ids)


def blast_cancel(
    *, blast_id: int, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> Blast:
    """Stop a blast for good: no further batch, and its messages not yet handed to Wappin are cancelled.

    Messages Wappin already has cannot be called back; they keep their status.
    """
    with transaction.atomic():
        blast = _locked(blast_id)
        _require_role(actor=actor, api_key=api_key, project=blast.project)
        _refuse_unless(
            blast,
            (Blast.Status.DRAFT, Blast.Status.SCHEDULED, Blast.Status.RUNNING, Blast.Status.PAUSED),
            doing=_("cancelled any more"),
            code="blast_not_running",
        )
        blast.status = Blast.Status.CANCELLED
        blast.cancelled_at = blast.finished_at = timezone.now()
        blast.save(update_fields=["status", "cancelled_at", "finished_at", "updated_at"])
        cancelled = _queued_cancel(blast_ids=[blast.pk])
        _audit(
            action="blast.cancel",
            blast=blast,
            actor=actor,
            api_key=api_key,
            data={"cancelled": cancelled},
        )
    return blast


def blasts_finish(
    *, blast_ids: set[int] | list[int] | None = None, now: datetime | None = None
) -> int:
    """Mark done the running blasts (of `blast_ids`, or all) whose contacts all had their turn and
    whose messages none is queued, sending or unknown. One UPDATE."""
    pending = Message.objects.filter(blast_id=OuterRef("pk"), status__in=Message.PENDING_STATUSES)
    blasts = Blast.objects.filter(status=Blast.Status.RUNNING, expanded_at__isnull=False)
    if blast_ids is not None:
        blasts = blasts.filter(pk__in=list(blast_ids))
    now = now or timezone.now()
    with transaction.atomic():
        # Locked (skipping a blast another finisher holds), so each blast.finished is sent once.
        done = list(
            blasts.exclude(Exists(pending)).select_for_update(skip_locked=True, of=("self",))
        )
        if not done:
            return 0
        finished = Blast.objects.filter(
            pk__in=[blast.pk for blast in done], status=Blast.Status.RUNNING
        ).update(status=Blast.Status.DONE, finished_at=now, updated_at=now)
        for blast in done:
            blast.status = Blast.Status.DONE
        webhook_events_emit(
            blast_webhook_event(
                blast=blast, event_type=WebhookEventType.BLAST_FINISHED, occurred_at=now
            )
            for blast in done
        )
    return finished


def blasts_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Every ~15 seconds: start the scheduled blasts now due, mark done those whose sends are settled,
    cancel what a cancelled blast still had queued (a send retried after its cancel)."""
    now = now or timezone.now()
    started = blasts_start_due(now=now)
    finished = blasts_finish(now=now)
    stragglers = list(
        Blast.objects.filter(status=Blast.Status.CANCELLED)
        .filter(
            Exists(Message.objects.filter(blast_id=OuterRef("pk"), status=Message.Status.QUEUED))
        )
        .values_list("pk", flat=True)[:100]
    )
    cancelled = _queued_cancel(blast_ids=stragglers) if stragglers else 0
    return {"started": started, "finished": finished, "cancelled": cancelled}


# --- the expansion --------------------------------------------------------------------------


class _Plan:
    """What every recipient of one batch shares: checked once, then applied to each contact in Python."""

    def __init__(self, blast: Blast) -> None:
        self.language: TemplateLanguage = template_language_resolve(
            project=blast.project,
            template_name=blast.template_name,
            language_code=blast.language_code,
        )
        self.integration = integration_pick(
            project=blast.project, kind=Integration.Kind.NOTIFICATION
        )
        self.marketing = self.language.template.message_type == Template.MessageType.MARKETING
        self.slots: list[
            tuple[str, Callable, str, int]
        ] = []  # (slot, getter, missing reason, max length)
        for slot, mapping in blast.params.items():
            self._slot(slot, mapping, PARAM_MAX_LENGTH)
        if blast.header_param:
            self._slot(
                "header_param",
                blast.header_param,
                Message._meta.get_field("header_param").max_length,
            )
        if blast.button_url:
            self._slot(
                "button_url", blast.button_url, Message._meta.get_field("button_url").max_length
            )
        self.needs_attributes = any(
            m.get("source") == ValueSource.ATTRIBUTE
            for m in (*blast.params.values(), blast.header_param, blast.button_url)
            if m
        )

    def _slot(self, slot: str, mapping: dict, max_length: int) -> None:
        source, key = mapping.get("source"), mapping.get("value", "")
        if source == ValueSource.FIXED:

            def getter(row, _value=key):
                return _value
        elif source == ValueSource.PHONE:

            def getter(row):
                return row[1]
        elif source == ValueSource.NAME:

            def getter(row):
                return row[2].strip()
        else:

            def getter(row, _key=key):
                raw = row[5].get(_key) if isinstance(row[5], dict) else None
                return "" if raw is None else str(raw).strip()

        self.slots.append(
            (slot, getter, blast_value_missing_reason(mapping=mapping, slot=slot), max_length)
        )


def _expansion_stop(blast: Blast, error: ApplicationError) -> None:
    """Something every recipient needs went away mid-blast (the template, the integration): pause, say why."""
    blast.status = Blast.Status.PAUSED
    blast.paused_at = timezone.now()
    blast.status_reason = f"Paused by the portal: {error.message}"[:500]
    blast.save(update_fields=["status", "paused_at", "status_reason", "updated_at"])
    _audit(
        action="blast.pause", blast=blast, actor=None, api_key=None, data={"reason": error.message}
    )


def blast_expand_batch(*, blast_id: int, batch_size: int | None = None) -> bool:
    """Queue the messages of the next `batch_size` contacts (by id) of a running blast, in one transaction.

    Returns whether a further batch was enqueued. Run twice, a batch sends
    nothing twice: the row lock and the cursor skip what a finished run did,
    and the contacts that already have a message or a refusal are left out.
    """
    from messaging.blasts import tasks  # the tasks module imports this one

    batch_size = batch_size or BATCH_SIZE
    with transaction.atomic():
        blast = _locked(blast_id)
        if blast.status != Blast.Status.RUNNING or blast.expanded_at is not None:
            return False
        try:
            plan = _Plan(blast)
        except ApplicationError as error:
            _expansion_stop(blast, error)
            return False
        fields = ["pk", "phone_number", "name", "opted_out_at", "not_on_whatsapp_at"]
        if plan.needs_attributes:
            fields.append("attributes")
        rows = list(
            blast_audience(blast=blast)
            .filter(pk__gt=blast.last_contact_id)
            .order_by("pk")
            .values_list(*fields)[:batch_size]
        )
        done: set[int] = set()
        if rows:
            span = {"contact_id__gte": rows[0][0], "contact_id__lte": rows[-1][0]}
            done = set(
                Message.objects.filter(blast=blast, **span).values_list("contact_id", flat=True)
            ) | set(
                BlastRefusal.objects.filter(blast=blast, **span).values_list(
                    "contact_id", flat=True
                )
            )
        now = timezone.now()
        messages, refusals = _expand_rows(blast=blast, plan=plan, rows=rows, done=done, now=now)
        if messages:
            created = Message.objects.bulk_create(messages, batch_size=500)
            if any(message.pk is None for message in created):  # a backend that returns no ids
                ids = dict(
                    Message.objects.filter(
                        blast=blast, contact_id__in=[m.contact_id for m in created]
                    ).values_list("contact_id", "pk")
                )
                for message in created:
                    message.pk = ids[message.contact_id]
            MessageStatusEvent.objects.bulk_create(
                [
                    MessageStatusEvent(
                        message_id=message.pk,
                        status=Message.Status.QUEUED,
                        source=MessageStatusEvent.Source.PORTAL,
                        occurred_at=now,
                        created_at=now,
                    )
                    for message in created
                ],
                batch_size=500,
            )
            webhook_events_emit(
                message_webhook_event(
                    message=message, status=Message.Status.QUEUED, occurred_at=now
                )
                for message in created
            )
        if refusals:
            BlastRefusal.objects.bulk_create(refusals, batch_size=500, ignore_conflicts=True)
        update = ["last_contact_id", "updated_at"]
        if rows:
            blast.last_contact_id = rows[-1][0]
        more = len(rows) == batch_size
        if not more:
            blast.expanded_at = now
            update.append("expanded_at")
        blast.save(update_fields=update)
        if messages:
            send_queue_wake_on_commit(
                integration_id=plan.integration.pk,
                dispatchers=settings.SEND_DISPATCHERS_PER_INTEGRATION,
            )
        if more:
            tasks.blast_expand.delay_on_commit(blast.pk)
        else:
            blasts_finish(blast_ids={blast.pk}, now=now)
    return more


def _expand_rows(
    *, blast: Blast, plan: _Plan, rows: list[tuple], done: set[int], now: datetime
) -> tuple[list[Message], list[BlastRefusal]]:
    """The messages and refusals of one batch's contacts: pure Python, no query."""
    language = plan.language
    kind = Message.Kind.HSM_MEDIA if blast.media else Message.Kind.HSM
    media_name = blast.media.name if blast.media else ""
    media_type = language.header_type if blast.media else ""
    common = {
        "project_id": blast.project_id,
        "integration_id": plan.integration.pk,
        "kind": kind,
        "template_id": language.template_id,
        "template_name": language.template.name,
        "language_code": language.language_code,
        "media": media_name,
        "media_type": media_type,
        "source": Message.Source.BLAST,
        "sent_by_id": blast.created_by_id,
        "blast_id": blast.pk,
        "created_at": now,
        "updated_at": now,
    }
    slots = plan.slots
    messages: list[Message] = []
    refusals: list[BlastRefusal] = []

    def refuse(row, code: str, reason: str) -> None:
        refusals.append(
            BlastRefusal(
                blast_id=blast.pk,
                contact_id=row[0],
                phone_number=row[1],
                code=code,
                reason=reason,
                created_at=now,
            )
        )

    for row in rows:
        contact_id, number = row[0], row[1]
        if contact_id in done:
            continue
        if not _NUMBER.fullmatch(number or ""):
            refuse(
                row, "phone_invalid", f"{number or 'The contact'} is not a valid WhatsApp number."
            )
            continue
        if plan.marketing and row[3] is not None:
            refuse(
                row,
                OPTED_OUT_CODE,
                f"{number} opted out of marketing messages (they sent STOP); "
                "this marketing template is not sent to them.",
            )
            continue
        if row[4] is not None:
            refuse(
                row,
                NOT_ON_WHATSAPP_CODE,
                f"Wappin answered before that {number} is not on WhatsApp (601): "
                "it is not sent again.",
            )
            continue
        params: dict[str, str] = {}
        header = button = ""
        problem = None
        for slot, getter, missing, max_length in slots:
            value = getter(row)
            if not value:
                problem = ("contact_value_missing", missing)
                break
            if len(value) > max_length or "\x00" in value:
                problem = (
                    "param_too_long",
                    f"The contact's value for {slot} is longer than {max_length} "
                    "characters (or holds a NUL character).",
                )
                break
            if slot == "header_param":
                header = value
            elif slot == "button_url":
                button = value
            else:
                params[slot] = value
        if problem:
            refuse(row, *problem)
            continue
        messages.append(
            Message(
                contact_id=contact_id,
                phone_number=number,
                params=params,
                header_param=header,
                button_url=button,
                **common,
            )
        )
    return messages, refusals


def blasts_resume_stalled(*, now=None) -> int:
    """Enqueue the next batch of every running blast that has not moved for STALLED_AFTER."""
    from messaging.blasts import tasks  # the tasks module imports this one

    cutoff = (now or timezone.now()) - STALLED_AFTER
    ids = list(
        Blast.objects.filter(
            status=Blast.Status.RUNNING, expanded_at__isnull=True, updated_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for blast_id in ids:
        tasks.blast_expand.delay_on_commit(blast_id)
    return len(ids)
