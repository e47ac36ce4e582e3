"""The sending engine: queued messages go to Wappin from a pool of threads, many at a time.

A dispatcher (the `messages_dispatch` task) serves one integration for up to
`SEND_DISPATCH_BUDGET_SECONDS`, in waves of about 25 ms of traffic at the cap:

1. it asks the shared rate limiter for the wave's send slots and waits until
   just before them (by about as long as a claim takes);
2. it claims that many queued messages, transactional ones first, then blasts',
   and marks them `sending` in one short transaction (`FOR UPDATE SKIP LOCKED`
   on PostgreSQL, so dispatchers on other machines take other rows; SQLite's
   write lock serialises the embedded set-up the same way);
3. at the slot, it hands them to a thread pool that only does HTTP (no database: the
   integration and its token are loaded once per dispatcher, the call-log rows
   are collected unsaved);
4. it writes what came back in bulk: Wappin's ids and `sent`, timeline steps,
   call logs; failures and retries with their reasons.

A message is marked `sending` only just before its request starts, so a worker
killed mid-blast leaves two kinds of rows: `queued` ones, sent later by another
dispatcher, and `sending` ones whose call may have reached Wappin. Those are
never sent again blindly: the sweep turns them `unknown` and `message_settle`
follows them up (Wappin's callbacks, the inquiry API).
"""

from __future__ import annotations

import gc
import logging
import math
import os
import random
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from messaging.models import Contact, Message, MessageStatusEvent, WappinCallLog
from messaging.sending.ratelimit import RateLimiter, rate_limiter
from messaging.signals import messages_accepted
from messaging.wappin import SendResult, WappinClient
from messaging.wappin.exceptions import WappinAuthError, WappinError, WappinTimeout
from messaging.webhook_events import message_webhook_event
from projects.models import Integration
from projects.webhooks.services import webhook_events_emit

logger = logging.getLogger(__name__)

# A wave is this much traffic at the integration's cap (at least one message).
WAVE_SECONDS = 0.025
# Outcomes are written at least this often, or when this many are waiting.
FLUSH_SECONDS = 0.1
FLUSH_SIZE = 500
# A wave's messages are claimed this long (at most) before its send slot, so the claim's own
# time does not make them late; a wave still later than the tolerance takes fresh slots.
# Sends later than their slot by less than the schedule's slack in all
# (`ratelimit.CAP_MARGIN`: 3% of a second, ~31 ms) cannot put more than the cap into any
# second at Wappin's end; a claim may take this much of it, the thread pool the rest.
CLAIM_LEAD_MAX_SECONDS = 0.05
SLOT_LATE_TOLERANCE_SECONDS = 0.01
# A message is tried this many times when Wappin is down or answers 5xx.
SEND_MAX_ATTEMPTS = 6
# A `sending` row older than this belongs to a dispatcher that died during the call.
SENDING_STALE_AFTER = timedelta(minutes=2)
# A blast's messages are sent while it is in one of these: a draft or scheduled one has none yet,
# a paused one's wait for its resume, a cancelled one's are cancelled. `done` has none queued by
# definition, but a message of a blast marked done before (old data) still goes.
SENDABLE_BLAST_STATUSES = ("running", "done")
# Wappin's answer for a number that is not on WhatsApp: the contact is marked, blasts skip it.
NOT_ON_WHATSAPP_CODE = "601"
# A dispatcher's claim on its integration, renewed while it runs.
DISPATCHER_LEASE_SECONDS = 30


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    seconds: float = 0.0


@dataclass
class _Outcome:
    message: Message
    result: SendResult | None = None
    error: WappinError | None = None
    finished_at: float = field(default_factory=time.time)


def dispatcher_lease_key(integration_id: int, slot: int) -> str:
    return f"wappin:dispatcher:{integration_id}:{slot}"


def retry_delay(attempt: int) -> float:
    """2, 4, 8, 16, 32 s (times SEND_RETRY_BACKOFF_FACTOR), each with up to a second of jitter."""
    factor = settings.SEND_RETRY_BACKOFF_FACTOR
    return factor * (2**attempt + random.uniform(0, 1))  # noqa: S311 - jitter, not a secret


def _queue(integration_id: int, *, now) -> Q:
    return Q(
        integration_id=integration_id,
        status=Message.Status.QUEUED,
        direction=Message.Direction.OUTGOING,
    ) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def send_queue_has_work(*, integration_id: int) -> bool:
    now = timezone.now()
    return (
        Message.objects.filter(_queue(integration_id, now=now))
        .filter(Q(blast__isnull=True) | Q(blast__status__in=SENDABLE_BLAST_STATUSES))
        .exists()
    )


def _claim(*, integration_id: int, count: int) -> list[Message]:
    """Take up to `count` due messages, transactional first, and mark them `sending`."""
    now = timezone.now()
    claimed: list[int] = []
    with transaction.atomic():
        lanes = (
            Message.objects.filter(_queue(integration_id, now=now), blast__isnull=True),
            # A paused or cancelled blast's messages wait (or are never sent).
            Message.objects.filter(
                _queue(integration_id, now=now), blast__status__in=SENDABLE_BLAST_STATUSES
            ),
        )
        for lane in lanes:
            room = count - len(claimed)
            if room <= 0:
                break
            claimed += list(
                lane.order_by("id")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("id", flat=True)[:room]
            )
        if not claimed:
            return []
        Message.objects.filter(pk__in=claimed).update(
            status=Message.Status.SENDING,
            send_attempts=F("send_attempts") + 1,
            next_attempt_at=None,
            updated_at=now,
        )
    return list(
        Message.objects.filter(pk__in=claimed)
        .only(
            "id",
            "project_id",
            "integration_id",
            "direction",  # read by the message.sent webhook event
            "kind",
            "phone_number",
            "template_name",
            "language_code",
            "params",
            "header_param",
            "button_url",
            "reply_payloads",
            "text",
            "media",
            "media_type",
            "caption",
            "send_attempts",
            "blast_id",
            "request_id",
            "contact_id",
        )
        .order_by("id")
    )


def _send_one(client: WappinClient, message: Message) -> _Outcome:
    from messaging.sending.delivery import _wappin_call

    try:
        return _Outcome(message, result=_wappin_call(client=client, message=message))
    except WappinError as exc:
        return _Outcome(message, error=exc)
    except Exception as exc:  # a bug must fail one message, not the whole dispatcher
        logger.exception("sending message %s failed", message.pk)
        return _Outcome(
            message,
            error=WappinError(
                f"The portal could not send it ({type(exc).__name__}).", code="send_crashed"
            ),
        )


_heap_frozen_pid: int | None = None


def _heap_freeze() -> None:
    """Collect once and move what a worker process holds after start-up out of the collector's sight.

    A fresh worker process holds a few hundred thousand objects (Django, Celery, the
    models); its first full collection takes ~100 ms and stops every thread, sends
    included, so the sends before it land ~100 ms late, beside the next on-time ones, and
    Wappin counts more than the cap in one second (measured: the first send of a fresh
    worker 95-110 ms instead of 2-6 ms, each time during a gen-2 collection). Frozen
    once per process (`gc.freeze`), later collections only walk what the dispatcher made.
    """
    global _heap_frozen_pid
    pid = os.getpid()
    if _heap_frozen_pid != pid:
        gc.collect()
        gc.freeze()
        _heap_frozen_pid = pid


class _Dispatcher:
    def __init__(self, integration: Integration) -> None:
        self.integration = integration
        self.call_log: deque[WappinCallLog] = deque()
        self.client = WappinClient(integration, call_log=self.call_log)
        self.rate = float(integration.max_messages_per_second or 80)
        self.report = DispatchReport()
        self.done: list[_Outcome] = []
        self.stop_reason = ""
        self.claim_seconds = 0.0

    # -- the loop ------------------------------------------------------------------------

    def run(self, *, budget: float, idle: float, lease_key: str) -> DispatchReport:
        started = time.monotonic()
        deadline = started + budget
        self.client.held_token = self.client.token_get()
        _heap_freeze()
        concurrency = max(1, settings.SEND_CONCURRENCY)
        wave_size = max(1, math.ceil(self.rate * WAVE_SECONDS))
        limiter = rate_limiter()
        key = f"integration:{self.integration.pk}"
        in_flight: set[Future] = set()
        last_flush = last_lease = time.monotonic()
        idle_since: float | None = None
        may_have_work = True
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wappin-send") as pool:
            while True:
                now = time.monotonic()
                room = concurrency - len(in_flight)
                if now < deadline and room > 0 and not self.stop_reason:
                    if not may_have_work:
                        may_have_work = send_queue_has_work(integration_id=self.integration.pk)
                    if may_have_work:
                        wanted = min(room, wave_size)
                        batch = self._claim_for_slot(limiter, key, in_flight, count=wanted)
                        may_have_work = len(batch) == wanted
                        for message in batch:
                            in_flight.add(pool.submit(_send_one, self.client, message))
                        if batch:
                            idle_since = None
                if not in_flight and not may_have_work:
                    if self.done:
                        self._flush()
                    idle_since = idle_since or now
                    if now >= deadline or self.stop_reason or now - idle_since >= idle:
                        break
                    time.sleep(min(0.1, max(idle, 0.01)))
                    may_have_work = False
                    continue
                finished, in_flight = self._collect(in_flight, block=not may_have_work or room <= 0)
                self.done += finished
                if self.done and (
                    len(self.done) >= FLUSH_SIZE or now - last_flush >= FLUSH_SECONDS
                ):
                    self._flush()
                    last_flush = now
                if now - last_lease >= 5:
                    cache.set(lease_key, "1", timeout=DISPATCHER_LEASE_SECONDS)
                    last_lease = now
                if now >= deadline and not in_flight:
                    break
            finished, _ = self._collect(in_flight, block=True, all_of_them=True)
            self.done += finished
        self._flush()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _claim_for_slot(
        self, limiter: RateLimiter, key: str, in_flight: set[Future], *, count: int
    ) -> list[Message]:
        """Reserve `count` send slots, claim that many messages and return them at their slot.

        The claim is made just before the slot, not after it: its own time (a few ms, far
        more on a loaded machine) would otherwise push this wave's sends late, up against
        another dispatcher's on-time wave, and the two would go over the cap within a
        second at Wappin's end. A claim that overruns its slot anyway takes fresh slots.
        """
        slot_at = time.monotonic() + limiter.reserve(key=key, rate=self.rate, count=count)
        lead = min(self.claim_seconds, CLAIM_LEAD_MAX_SECONDS)
        self._wait(in_flight, slot_at - lead - time.monotonic())
        claim_started = time.monotonic()
        batch = _claim(integration_id=self.integration.pk, count=count)
        claimed_at = time.monotonic()
        # A decaying maximum: the next claim is started as early as the slow ones need.
        self.claim_seconds = max(claimed_at - claim_started, self.claim_seconds * 0.9)
        if batch and claimed_at - slot_at > SLOT_LATE_TOLERANCE_SECONDS:
            slot_at = claimed_at + limiter.reserve(key=key, rate=self.rate, count=len(batch))
        self._wait(in_flight, slot_at - time.monotonic())
        return batch

    def _wait(self, in_flight: set[Future], delay: float) -> None:
        """Wait for the wave's slot, collecting finished sends meanwhile."""
        until = time.monotonic() + delay
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            if in_flight:
                finished, remaining = self._collect(in_flight, block=True, timeout=left)
                self.done += finished
                in_flight.clear()
                in_flight.update(remaining)
            else:
                time.sleep(left)

    @staticmethod
    def _collect(in_flight: set[Future], *, block: bool, timeout: float = 0.05, all_of_them=False):
        if not in_flight:
            return [], set()
        if all_of_them:
            done, pending = wait(in_flight)
        else:
            done, pending = wait(
                in_flight, timeout=timeout if block else 0, return_when=FIRST_COMPLETED
            )
        return [future.result() for future in done], set(pending)

    # -- writing outcomes ----------------------------------------------------------------

    def _flush(self) -> None:
        """Write the finished sends' outcomes."""
        outcomes, self.done = self.done, []
        logs = []
        while self.call_log:
            logs.append(self.call_log.popleft())
        sent = [o for o in outcomes if o.result is not None]
        refused = [o for o in outcomes if o.error is not None]
        with transaction.atomic():
            if sent:
                self._sent_write(sent)
            if logs:
                WappinCallLog.objects.bulk_create(logs, batch_size=500)
        for outcome in refused:
            self._refusal_write(outcome)
        if sent:
            _callbacks_wake([outcome.result.message_id for outcome in sent])
        blast_ids = {outcome.message.blast_id for outcome in outcomes if outcome.message.blast_id}
        if blast_ids:
            _blasts_settled(blast_ids)

    def _sent_write(self, sent: list[_Outcome]) -> None:
        now = timezone.now()
        messages = []
        events = []
        for outcome in sent:
            message = outcome.message
            message.wappin_message_id = outcome.result.message_id
            message.status = Message.Status.SENT
            message.sent_at = now
            message.updated_at = now
            messages.append(message)
            events.append(
                MessageStatusEvent(
                    message_id=message.pk,
                    status=Message.Status.SENT,
                    source=MessageStatusEvent.Source.SEND_ANSWER,
                    occurred_at=now,
                    detail=f"Accepted by Wappin as {outcome.result.message_id}."[:500],
                )
            )
        for start in range(0, len(messages), 500):
            _sent_rows_update(messages[start : start + 500], now=now)
        MessageStatusEvent.objects.bulk_create(events, batch_size=500, ignore_conflicts=True)
        # In the same transaction as the rows (`_flush`): the outbox commits with them.
        webhook_events_emit(
            message_webhook_event(message=message, status=Message.Status.SENT, occurred_at=now)
            for message in messages
        )
        self.report.sent += len(messages)
        for message in messages:
            # One line per message, with the id of the request that queued it.
            logger.info(
                "message %s sent as %s",
                message.pk,
                message.wappin_message_id,
                extra={
                    "request_id": message.request_id or None,
                    "project_id": message.project_id,
                    "wappin_message_id": message.wappin_message_id,
                },
            )

    def _refusal_write(self, outcome: _Outcome) -> None:
        from messaging.sending import delivery, services

        message, error = outcome.message, outcome.error
        if isinstance(error, WappinTimeout):
            services.message_status_record(
                message_id=message.pk,
                status=Message.Status.UNKNOWN,
                source=MessageStatusEvent.Source.SEND_ANSWER,
                detail=f"Wappin did not answer in time ({error.message}); checking later instead of resending.",
            )
            delivery.message_settle_later(message.pk)
            self.report.unknown += 1
            return
        if isinstance(error, WappinAuthError) and error.wappin_status == "401":
            # Refused before it was taken: back in the queue, and a fresh token for the rest.
            Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                status=Message.Status.QUEUED, send_attempts=F("send_attempts") - 1
            )
            self._token_renew()
            self.report.retried += 1
            return
        if error.retryable and message.send_attempts < SEND_MAX_ATTEMPTS:
            Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
                status=Message.Status.QUEUED,
                next_attempt_at=timezone.now()
                + timedelta(seconds=retry_delay(message.send_attempts)),
            )
            self.report.retried += 1
            return
        if error.retryable:
            reason = (
                f"Wappin could not be reached after {message.send_attempts} attempts "
                f"(last error: {error.message})."
            )
            delivery.message_send_give_up(
                message_id=message.pk,
                reason=reason,
                failure_code=error.wappin_status or "unavailable",
            )
        else:
            failure_code = error.wappin_status or error.code
            services.message_status_record(
                message_id=message.pk,
                status=Message.Status.FAILED,
                source=MessageStatusEvent.Source.SEND_ANSWER,
                detail=error.message,
                failure_code=failure_code,
            )
            if failure_code == NOT_ON_WHATSAPP_CODE and message.contact_id:
                # Blasts skip the number from now on: a company does not pay twice for a dead number.
                Contact.objects.filter(
                    pk=message.contact_id, not_on_whatsapp_at__isnull=True
                ).update(not_on_whatsapp_at=timezone.now())
        self.report.failed += 1

    def _token_renew(self) -> None:
        stale = self.client.held_token
        try:
            self.client.held_token = self.client._token_refresh(stale_token=stale)
        except WappinError as exc:
            logger.warning(
                "integration %s: no fresh token (%s); stopping", self.integration.pk, exc.message
            )
            self.stop_reason = exc.message


def _blasts_settled(blast_ids: set[int]) -> None:
    """Blasts whose messages just got an outcome: the ones with nothing left to send are done."""
    from messaging.blasts.services import blasts_finish  # blasts build on the engine

    blasts_finish(blast_ids=blast_ids)


def _sent_rows_update(messages: list[Message], *, now) -> None:
    """Store Wappin's ids and `sent` for many messages in ONE statement.

    Django's bulk_update builds a CASE WHEN per row and field (1.7 ms of CPU per
    message in the profile, most of the engine's cost); `UPDATE ... FROM (VALUES ...)`
    is plain SQL that PostgreSQL and SQLite (3.33+) both run, and both name a VALUES
    list's columns column1, column2. A row a sweep meanwhile made `unknown` is sent too.
    """
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = ", ".join(["(%s, %s)"] * len(messages))
    params: list = []
    for message in messages:
        params += [message.pk, message.wappin_message_id]
    stamp = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"UPDATE {table} SET wappin_message_id = v.column2, "  # noqa: S608 - no user input in the SQL
        "status = CASE WHEN status IN (%s, %s) THEN %s ELSE status END, "
        "sent_at = COALESCE(sent_at, %s), updated_at = %s "
        f"FROM (VALUES {rows}) AS v WHERE {table}.id = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Message.Status.SENDING,
                Message.Status.UNKNOWN,
                Message.Status.SENT,
                stamp,
                stamp,
                *params,
            ],
        )


def _callbacks_wake(wappin_message_ids: list[str]) -> None:
    """Status callbacks that came before their message's id can be applied now (callbacks listens)."""
    messages_accepted.send(sender=Message, wappin_message_ids=wappin_message_ids)


def messages_dispatch(*, integration_id: int, slot: int = 0) -> DispatchReport:
    """Send the integration's queued messages until none is due or the time budget is spent."""
    lease_key = dispatcher_lease_key(integration_id, slot)
    cache.set(lease_key, "1", timeout=DISPATCHER_LEASE_SECONDS)
    try:
        integration = Integration.objects.select_related("project").get(pk=integration_id)
        dispatcher = _Dispatcher(integration)
        try:
            report = dispatcher.run(
                budget=settings.SEND_DISPATCH_BUDGET_SECONDS,
                idle=settings.SEND_DISPATCH_IDLE_SECONDS,
                lease_key=lease_key,
            )
        except WappinError as exc:
            # No token at all: Wappin down counts as an attempt of every due message (they
            # back off, and fail after the last); refused credentials fail them with the reason.
            if exc.retryable:
                report = _queue_back_off(integration_id=integration_id, error=exc)
            else:
                report = _queue_fail(integration_id=integration_id, error=exc)
        if dispatcher.stop_reason:
            report.failed += _queue_fail(
                integration_id=integration_id, error=WappinAuthError(dispatcher.stop_reason)
            ).failed
    finally:
        cache.delete(lease_key)
    # New work may have come in after the last look and before the lease was released.
    if send_queue_has_work(integration_id=integration_id):
        send_queue_wake(integration_id=integration_id, dispatchers=slot + 1)
    elif slot == 0:
        _retries_schedule(integration_id=integration_id)
    return report


def _retries_schedule(*, integration_id: int) -> None:
    """Messages backing off after a failure: a dispatcher is due when the first one is."""
    from celery import current_app

    from messaging.tasks import messages_dispatch_task

    if current_app.conf.task_always_eager:
        return  # in-process tasks cannot wait; the sweep (or a test) dispatches again
    first = (
        Message.objects.filter(
            integration_id=integration_id,
            status=Message.Status.QUEUED,
            next_attempt_at__isnull=False,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if first is not None:
        countdown = max(0.0, (first - timezone.now()).total_seconds())
        messages_dispatch_task.apply_async((integration_id, 0), countdown=countdown)


def _queue_back_off(*, integration_id: int, error: WappinError) -> DispatchReport:
    from messaging.sending import delivery

    report = DispatchReport()
    now = timezone.now()
    by_attempts: dict[int, list[int]] = {}
    for message_id, attempts in Message.objects.filter(_queue(integration_id, now=now)).values_list(
        "pk", "send_attempts"
    ):
        by_attempts.setdefault(attempts, []).append(message_id)
    for attempts, ids in by_attempts.items():
        report.retried += Message.objects.filter(pk__in=ids).update(
            send_attempts=attempts + 1,
            next_attempt_at=now + timedelta(seconds=retry_delay(attempts + 1)),
            updated_at=now,
        )
    due = Message.objects.filter(pk__in=[pk for ids in by_attempts.values() for pk in ids])
    given_up = due.filter(send_attempts__gte=SEND_MAX_ATTEMPTS).values_list("pk", flat=True)
    for message_id in list(given_up[:5000]):
        delivery.message_send_give_up(
            message_id=message_id,
            reason=f"Wappin could not be reached after {SEND_MAX_ATTEMPTS} attempts (last error: {error.message}).",
            failure_code=error.wappin_status or "unavailable",
        )
        report.failed += 1
    return report


def _queue_fail(*, integration_id: int, error: WappinError) -> DispatchReport:
    """No token can be had for good (credentials refused): the queued messages fail with the reason."""
    from messaging.sending import services

    report = DispatchReport()
    ids = list(
        Message.objects.filter(_queue(integration_id, now=timezone.now())).values_list(
            "pk", flat=True
        )[:5000]
    )
    for message_id in ids:
        services.message_status_record(
            message_id=message_id,
            status=Message.Status.FAILED,
            source=MessageStatusEvent.Source.SEND_ANSWER,
            detail=error.message,
            failure_code=error.wappin_status or error.code,
        )
        report.failed += 1
    return report


def send_queue_wake(*, integration_id: int, dispatchers: int = 1) -> int:
    """Make sure `dispatchers` dispatchers serve the integration; publish a task only for a free slot.

    The lease in the shared cache means a burst of API sends publishes one task,
    not one per message. Returns how many tasks were published.
    """
    from messaging.tasks import messages_dispatch_task

    published = 0
    for slot in range(max(1, min(dispatchers, settings.SEND_DISPATCHERS_PER_INTEGRATION))):
        if cache.add(
            dispatcher_lease_key(integration_id, slot), "1", timeout=DISPATCHER_LEASE_SECONDS
        ):
            messages_dispatch_task.delay(integration_id, slot)
            published += 1
    return published


def send_queue_wake_on_commit(*, integration_id: int, dispatchers: int = 1) -> None:
    transaction.on_commit(
        lambda: send_queue_wake(integration_id=integration_id, dispatchers=dispatchers), robust=True
    )


def messages_sending_sweep(*, now=None) -> dict[str, int]:
    """Every few seconds: wake integrations with due messages; settle sends a dead worker left."""
    from messaging.sending import services

    now = now or timezone.now()
    stale_ids = list(
        Message.objects.filter(
            status=Message.Status.SENDING, updated_at__lt=now - SENDING_STALE_AFTER
        ).values_list("pk", flat=True)[:1000]
    )
    for message_id in stale_ids:
        services.message_status_record(
            message_id=message_id,
            status=Message.Status.UNKNOWN,
            source=MessageStatusEvent.Source.PORTAL,
            detail="The sending worker stopped during the call: Wappin may or may not have it. "
            "Checking instead of resending.",
        )
    orphans = _orphans_adopt(now=now)
    integration_ids = set(
        Message.objects.filter(
            status=Message.Status.QUEUED,
            direction=Message.Direction.OUTGOING,
            integration__isnull=False,
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("integration_id", flat=True)
        .distinct()[:1000]
    )
    woken = sum(
        send_queue_wake(
            integration_id=integration_id, dispatchers=settings.SEND_DISPATCHERS_PER_INTEGRATION
        )
        for integration_id in integration_ids
    )
    return {"unknown": len(stale_ids), "woken": woken, "orphans": orphans}


def _orphans_adopt(*, now) -> int:
    """Queued messages whose integration was removed: another of the project's, or failed with why."""
    from messaging.sending import delivery, services
    from wappin_portal.errors import Conflict

    count = 0
    orphans = Message.objects.filter(
        status=Message.Status.QUEUED, direction=Message.Direction.OUTGOING, integration__isnull=True
    ).select_related("project")[:500]
    for message in orphans:
        kind = (
            Integration.Kind.NOTIFICATION
            if message.kind in (Message.Kind.HSM, Message.Kind.HSM_MEDIA)
            else Integration.Kind.CHATBOT
        )
        try:
            integration = services.integration_pick(project=message.project, kind=kind)
        except Conflict as exc:
            delivery.message_send_give_up(
                message_id=message.pk, reason=exc.message, failure_code=exc.code
            )
        else:
            Message.objects.filter(pk=message.pk).update(integration=integration)
        count += 1
    return count
