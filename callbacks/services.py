"""What a Wappin callback does: received and stored first, then processed from the stored row.

`callback_receive` is the endpoint's whole decision (who is calling, may they,
is it readable, have we seen it). It publishes no task per callback (a blast
brings back up to three callbacks a message): `callbacks_wake` starts at most one
`callbacks_process` task a second, and `callbacks_process_fresh` applies the stored
rows in batches (`FOR UPDATE SKIP LOCKED`, so several workers share them) until
none is left. `callback_event_process` applies one stored callback through
`CALLBACK_HANDLERS` (the admin's "process again"); `callbacks_sweep` (every
minute) applies what is still pending: a failed try, or a status that came before
our send answer stored its message's Wappin id (it stays pending until then,
applied in the order the statuses happened).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from callbacks.models import (
    CALLBACK_BODY_MAX_BYTES,
    REJECTED_BODY_KEEP_BYTES,
    CallbackEvent,
    Conversation,
    ConversationRead,
)
from callbacks.parsing import CallbackMalformed, ParsedCallback, callback_parse, storable_text
from callbacks.selectors import (
    PROCESSOR_WAKE_KEY,
    TOKEN_NONE_YET,
    TOKEN_UNKNOWN,
    callback_address_allowed,
    callback_target_get,
    callback_token_check,
)
from messaging.contacts.services import contact_get_or_create, opt_out_record, opt_out_remove
from messaging.models import CUSTOMER_SERVICE_WINDOW, Contact, Message, MessageStatusEvent
from messaging.sending import services as messaging_services
from messaging.wappin import WappinClient
from messaging.webhook_events import message_webhook_event
from projects.models import Integration, Project
from projects.roles import capability_require, membership_role, role_can
from projects.selectors import ENCRYPTED_INTEGRATION_FIELDS
from projects.services import audit_record
from projects.webhooks.services import webhook_events_emit
from templates_app.selectors import keyword_match
from wappin_portal import metrics
from wappin_portal.db import rows_delete, rows_update
from wappin_portal.errors import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)

# A callback with a token we do not know asks Wappin for its client's token at most this often.
TOKEN_FETCH_INTERVAL_SECONDS = 60

# Headers worth keeping with a callback. Authorization is kept only as its scheme.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Forwarded-For",
    "X-Real-IP",
    "Forwarded",
)

# A status that waits for its message longer than this is about a message this
# portal did not send (e.g. from Wappin's own dashboard): the sweep gives up on it.
PENDING_MAX_AGE = timedelta(days=2)
# The sweep leaves fresh rows to the processor.
SWEEP_GRACE = timedelta(minutes=1)
# The processor: rows per transaction, and how long one task goes on before handing over.
PROCESS_BATCH = 200
PROCESS_BUDGET_SECONDS = 50
# A row whose processing raised is tried again by the sweep, this many times in all.
PROCESS_MAX_ATTEMPTS = 5
# While this cache key lives, a processor is on its way or running: no task is published.
WAKE_KEY = PROCESSOR_WAKE_KEY
WAKE_SECONDS = 1
# A processor that finds a full batch starts a helper, at most one this often.
HELPER_KEY = "callbacks:processor-helper"
HELPER_EVERY_SECONDS = 5
# A callback that saw the key is stored within this long, or wakes a processor itself;
# a processor that releases the key looks for work once more twice this long after.
WAKE_TRUST_SECONDS = 0.1

OPT_OUT_WORDS = {"stop": "en", "berhenti": "id"}
OPT_IN_WORDS = {"start": "en", "mulai": "id"}


@dataclass(frozen=True)
class CallbackAnswer:
    """What the endpoint answers: Wappin stops retrying only on {"status": "000"}."""

    http_status: int
    body: dict = field(default_factory=dict)
    event: CallbackEvent | None = None


def _refusal(http_status: int, reason: str, event: CallbackEvent | None = None) -> CallbackAnswer:
    return CallbackAnswer(http_status, {"status": str(http_status), "message": reason}, event)


def _kept_headers(headers) -> dict:
    kept = {name: storable_text(headers[name][:500]) for name in KEPT_HEADERS if headers.get(name)}
    authorization = headers.get("Authorization", "")
    if authorization:
        kept["Authorization"] = authorization.strip().partition(" ")[0][:20] + " (value not stored)"
    return kept


def _body_text(body: bytes, *, limit: int) -> str:
    return storable_text(body[:limit].decode("utf-8", errors="replace"))


def callback_receive(
    *,
    key: str,
    client_address: str,
    headers,
    body: bytes,
    body_size: int | None = None,
) -> CallbackAnswer:
    """Decide on one POST to `/callbacks/wappin/<key>/` and store it; the checks run in order.

    1. the key names an integration (404, nothing stored: anyone may probe URLs);
    2. the caller's address is in the integration's callback allow-list, if any (403);
    3. `Authorization: Bearer` is the integration's current or previous token (401);
    4. the body fits (413) and is JSON of a known callback_type (400, kept for inspection).
    An accepted callback is stored, then processed by a task once the row is committed;
    a retry of one already stored (same type, message id and status) is answered the
    same way and not applied again.
    """
    body_size = len(body) if body_size is None else body_size
    arrived = time.monotonic()
    target = callback_target_get(key=key)
    integration = target.integration
    if integration is None:
        logger.warning("callback refused: unknown callback key from %s", client_address)
        metrics.callback_count(outcome="refused", reason="unknown_key")
        return _refusal(404, "No integration has this callback URL.")
    arrival = _Arrival(integration, client_address, headers, body, body_size)
    refused = _caller_check(arrival)
    if refused is not None:
        return refused
    try:
        parsed = callback_parse(body)
        _check_project(integration=integration, parsed=parsed)
    except CallbackMalformed as exc:
        return arrival.refuse(400, exc.code, exc.message, CALLBACK_BODY_MAX_BYTES)
    return _accepted_store(
        arrival, parsed, processor_seen_awake_at=arrived if target.processor_awake else None
    )


@dataclass
class _Arrival:
    """One POST to an integration's callback URL, and how to store it whatever the verdict."""

    integration: Integration
    client_address: str
    headers: object
    body: bytes
    body_size: int

    def store(
        self, verdict: str, reason: str = "", keep: int = CALLBACK_BODY_MAX_BYTES, **fields
    ) -> CallbackEvent:
        return CallbackEvent.objects.create(
            integration=self.integration,
            remote_addr=self.client_address or None,
            body=_body_text(self.body, limit=keep),
            body_size=self.body_size,
            headers=_kept_headers(self.headers),
            verdict=verdict,
            reason=reason[:500],
            state=fields.pop("state", CallbackEvent.State.SKIPPED),
            **fields,
        )

    def refuse(self, http_status: int, verdict: str, reason: str, keep: int) -> CallbackAnswer:
        metrics.callback_count(outcome="refused", reason=verdict)
        if not _refusal_storable(self.integration.pk):
            # A flood of refused POSTs answers the same, but fills no table (issue 10, finding 9).
            logger.warning(
                "callback refused (%s, not stored: over %s refusals a minute) for integration %s "
                "from %s: %s",
                verdict,
                settings.CALLBACK_REFUSED_STORED_PER_MINUTE,
                self.integration.pk,
                self.client_address,
                reason,
            )
            return _refusal(http_status, reason)
        event = self.store(verdict, reason, keep=keep)
        logger.warning(
            "callback #%s refused (%s) for integration %s from %s: %s",
            event.pk,
            verdict,
            self.integration.pk,
            self.client_address,
            reason,
        )
        return _refusal(http_status, reason, event)


def _refusal_storable(integration_id: int) -> bool:
    """Whether one more refused callback of this integration is stored this minute."""
    key = f"callbacks:refused:{integration_id}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) <= settings.CALLBACK_REFUSED_STORED_PER_MINUTE
    except ValueError:  # the key expired between add and incr: a new minute
        return True


def _caller_check(arrival: _Arrival) -> CallbackAnswer | None:
    """Checks 2 to 4 before the body is read: the address, the token, the size. None: let in."""
    integration = arrival.integration
    if not callback_address_allowed(integration=integration, address=arrival.client_address):
        return arrival.refuse(
            403,
            CallbackEvent.Verdict.REJECTED_IP,
            f"The address {arrival.client_address} is not in this integration's callback allow-list.",
            REJECTED_BODY_KEEP_BYTES,
        )
    token_problem = callback_token_check(
        integration=integration, authorization=arrival.headers.get("Authorization", "")
    )
    if token_problem:
        if token_problem in (TOKEN_NONE_YET, TOKEN_UNKNOWN) and _token_fetch_due(integration):
            # The first callback can come before the portal ever called Wappin, or signed with
            # a token another holder of the client's key had Wappin issue. Fetch the client's
            # current token now (in a task: this answer must stay fast): Wappin retries the
            # callback 3 times, and a retry then gets in. This one is refused all the same.
            transaction.on_commit(partial(_enqueue_token_fetch, integration.pk))
        return arrival.refuse(
            401, CallbackEvent.Verdict.REJECTED_AUTH, token_problem, REJECTED_BODY_KEEP_BYTES
        )
    if arrival.body_size > CALLBACK_BODY_MAX_BYTES:
        return arrival.refuse(
            413,
            CallbackEvent.Verdict.MALFORMED,
            f"The body is {arrival.body_size} bytes; a callback is at most {CALLBACK_BODY_MAX_BYTES}.",
            REJECTED_BODY_KEEP_BYTES,
        )
    return None


def _accepted_store(
    arrival: _Arrival, parsed: ParsedCallback, *, processor_seen_awake_at: float | None
) -> CallbackAnswer:
    """Store an accepted callback and see it processed; a retry of a stored one is kept apart."""
    integration = arrival.integration
    fields = {
        "callback_type": parsed.callback_type,
        "wappin_message_id": parsed.message_id,
        "status_value": parsed.status_value,
        "occurred_at": parsed.occurred_at,
    }
    # Per project, not per URL: one message posted to the chatbot and the notification URL
    # is applied (and answered) once (issue 10, finding 10).
    dedupe_key = f"p{integration.project_id}:{parsed.dedupe_key_part}"

    def store() -> CallbackEvent:
        return arrival.store(
            CallbackEvent.Verdict.ACCEPTED,
            dedupe_key=dedupe_key,
            state=CallbackEvent.State.PENDING,
            **fields,
        )

    try:
        if transaction.get_connection().in_atomic_block:
            with (
                transaction.atomic()
            ):  # a savepoint: a duplicate leaves the caller's transaction usable
                event = store()
        else:
            # The endpoint: one INSERT, committed when it returns (a transaction around a
            # single statement would only add round trips to the database).
            event = store()
    except IntegrityError:
        first = CallbackEvent.objects.filter(dedupe_key=dedupe_key).only("pk").first()
        reason = f"A retry of callback #{first.pk if first else '?'}: not applied again."
        event = arrival.store(CallbackEvent.Verdict.DUPLICATE, reason, result=reason, **fields)
        logger.info("callback #%s is a duplicate for integration %s", event.pk, integration.pk)
        metrics.callback_count(outcome="duplicate", reason=parsed.callback_type)
        return CallbackAnswer(200, {"status": "000"}, event)
    transaction.on_commit(partial(_wake_unless_awake, processor_seen_awake_at))  # now, or later
    metrics.callback_count(outcome="accepted", reason=parsed.callback_type)
    logger.info(
        "callback #%s accepted: %s %s for integration %s",
        event.pk,
        parsed.callback_type,
        parsed.message_id,
        integration.pk,
    )
    return CallbackAnswer(200, {"status": "000"}, event)


def _check_project(*, integration: Integration, parsed: ParsedCallback) -> None:
    expected = integration.project.wappin_project_id
    if parsed.project_id and expected and parsed.project_id != expected:
        raise CallbackMalformed(
            f"The callback is for Wappin project {parsed.project_id[:32]}, "
            f"but this URL belongs to project {expected}: check the callback URL in Wappin's dashboard."
        )


def _enqueue_token_fetch(integration_id: int) -> None:
    from callbacks.tasks import integration_token_fetch

    try:
        integration_token_fetch.delay(integration_id)
    except Exception:
        logger.exception("could not enqueue the token fetch of integration %s", integration_id)


def _token_fetch_due(integration: Integration) -> bool:
    """Whether this refusal asks Wappin for the client's token: at most once a minute per
    client, agreed between all web processes through the shared cache (`add` is atomic)."""
    if integration.credential_id is None:
        return False  # no client id or secret key: nothing to ask with
    return cache.add(
        f"callbacks:token-fetch:{integration.credential_id}",
        1,
        timeout=TOKEN_FETCH_INTERVAL_SECONDS,
    )


def integration_token_fetch_for_callbacks(*, integration_id: int) -> bool:
    """Fetch the current token of the integration's Wappin client; True when it has one."""
    integration = Integration.objects.select_related("project", "credential").get(pk=integration_id)
    return bool(WappinClient(integration).token_fetch())


def _wake_unless_awake(processor_seen_awake_at: float | None) -> None:
    """After the row is committed: a processor seen awake just before will find it (it looks
    once more `2 * WAKE_TRUST_SECONDS` after letting go); otherwise wake one."""
    if (
        processor_seen_awake_at is None
        or time.monotonic() - processor_seen_awake_at >= WAKE_TRUST_SECONDS
    ):
        callbacks_wake()


def callbacks_wake() -> None:
    """A callback was stored: see that a processor runs soon; at most one task is published a second.

    The processor deletes the key before its last look for work, so a row stored
    after that look publishes a task of its own: none waits for the sweep.
    """
    if not cache.add(WAKE_KEY, "1", timeout=WAKE_SECONDS):
        return
    from callbacks.tasks import callbacks_process

    try:
        callbacks_process.delay()
    except Exception:
        # The rows are stored and stay pending: the sweep processes them later.
        cache.delete(WAKE_KEY)
        logger.exception("could not start the callback processor; the sweep will process them")


# --- processing -------------------------------------------------------------------------


@dataclass
class Outcome:
    state: str
    result: str
    message: Message | None = None
    reply: Message | None = None


def _events_for_processing():
    """Stored callbacks with what applying them reads; the integration's secrets stay encrypted."""
    return CallbackEvent.objects.select_related(
        "integration__project", "integration__credential", "reply"
    ).defer(*(f"integration__{name}" for name in ENCRYPTED_INTEGRATION_FIELDS))


def callback_event_process(*, event_id: int) -> CallbackEvent:
    """Apply one stored, accepted callback (again, if asked: every step is idempotent)."""
    with transaction.atomic():
        event = _events_for_processing().select_for_update(of=("self",)).get(pk=event_id)
        _event_apply(event)
    return event


def _event_apply(event: CallbackEvent) -> None:
    """Apply `event` (locked by the caller) and write what came of it on the row."""
    if event.verdict != CallbackEvent.Verdict.ACCEPTED:
        return
    event.attempts += 1
    try:
        parsed = callback_parse(event.body)
        outcome = CALLBACK_HANDLERS[parsed.callback_type](event=event, parsed=parsed)
    except ApplicationError as exc:
        outcome = Outcome(CallbackEvent.State.FAILED, exc.message)
    event.state = outcome.state
    event.result = outcome.result
    event.message = outcome.message or event.message
    event.reply = outcome.reply or event.reply
    if outcome.state != CallbackEvent.State.PENDING:
        event.processed_at = timezone.now()
    event.save(update_fields=["state", "result", "message", "reply", "attempts", "processed_at"])
    log = logger.warning if event.state == CallbackEvent.State.FAILED else logger.info
    log("callback #%s %s: %s", event.pk, event.state, event.result)


def _event_apply_guarded(event: CallbackEvent) -> None:
    """`_event_apply` in a savepoint: an unexpected error (a bug, a lost row) costs this row a
    try, written on it, and never the rest of the batch; the last try leaves it failed."""
    try:
        with transaction.atomic():
            _event_apply(event)
    except Exception as exc:
        logger.exception("callback #%s could not be processed", event.pk)
        attempts = event.attempts  # this try counted by `_event_apply` before it raised
        last = attempts >= PROCESS_MAX_ATTEMPTS
        CallbackEvent.objects.filter(pk=event.pk).update(
            attempts=attempts,
            state=CallbackEvent.State.FAILED if last else CallbackEvent.State.PENDING,
            result=(
                f"Processing failed ({attempts} of {PROCESS_MAX_ATTEMPTS} tries"
                f"{'' if last else '; the sweep tries again'}): {exc!r}"
            )[:2000],
            processed_at=timezone.now() if last else None,
        )


def _fresh_batch_apply(*, limit: int) -> int:
    """Apply up to `limit` callbacks never tried yet, oldest first; how many were taken."""
    with transaction.atomic():
        events = _in_the_order_they_happened(
            list(
                _events_for_processing()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(
                    verdict=CallbackEvent.Verdict.ACCEPTED,
                    state=CallbackEvent.State.PENDING,
                    attempts=0,
                )
                .order_by("received_at", "id")[:limit]
            )
        )
        statuses = [e for e in events if e.callback_type == CallbackEvent.CallbackType.STATUS]
        others = [e for e in events if e.callback_type != CallbackEvent.CallbackType.STATUS]
        if statuses and not _statuses_apply_together(statuses):
            others = events  # one of them broke the batch: each on its own, in order
        for event in others:
            _event_apply_guarded(event)
    return len(events)


def _statuses_apply_together(events: list[CallbackEvent]) -> bool:
    """Status callbacks as one batch: their steps in one go, their rows in one UPDATE each kind.
    False (nothing written) when any of them raises, for the caller to apply them one by one."""
    try:
        with transaction.atomic():
            outcomes = _status_outcomes(events)
            now = timezone.now()
            for event, outcome in zip(events, outcomes, strict=True):
                event.attempts += 1
                event.state = outcome.state
                event.result = outcome.result
                event.message = outcome.message or event.message
                if outcome.state != CallbackEvent.State.PENDING:
                    event.processed_at = now
            rows_update(events, ["state", "result", "message", "attempts", "processed_at"])
    except Exception:
        logger.exception(
            "a batch of %s status callbacks failed; applying them one by one", len(events)
        )
        for event in events:
            event.refresh_from_db(fields=["state", "result", "message", "attempts", "processed_at"])
        return False
    logger.info("%s status callbacks applied", len(events))
    return True


def callbacks_process_fresh(
    *, batch: int = PROCESS_BATCH, budget_seconds: float = PROCESS_BUDGET_SECONDS
) -> int:
    """Apply the stored callbacks not tried yet, a batch per transaction, until none is left.

    Several processors (workers, machines) share the rows: each takes a batch the
    others have not locked. A status whose message is not known yet stays pending
    with its first try counted, for `messages_accepted` or the sweep.
    """
    deadline = time.monotonic() + budget_seconds
    applied = 0
    released = False
    while True:
        taken = _fresh_batch_apply(limit=batch)
        applied += taken
        if not taken:
            if released:
                return applied
            # Let the next stored row wake another processor, then look once more, after
            # the rows of callbacks that saw this one awake are surely committed.
            cache.delete(WAKE_KEY)
            released = True
            time.sleep(2 * WAKE_TRUST_SECONDS)
            continue
        released = False
        if time.monotonic() >= deadline:
            cache.delete(WAKE_KEY)
            callbacks_wake()  # hand the rest to a fresh task
            return applied
        # Still at work: hold the key, so callbacks stored meanwhile publish no more tasks.
        cache.set(WAKE_KEY, "1", timeout=WAKE_SECONDS)
        if taken == batch:
            _helper_wake()  # a backlog: one more processor (on another worker, if any)
        else:
            # Callbacks come in streams: let the next ones gather into a fuller batch
            # (a batch costs the same queries for 1 row as for 200).
            time.sleep(settings.CALLBACKS_GATHER_SECONDS)


def _helper_wake() -> None:
    """Start one more processor for a backlog, at most one every `HELPER_EVERY_SECONDS`."""
    if cache.add(HELPER_KEY, "1", timeout=HELPER_EVERY_SECONDS):
        from callbacks.tasks import callbacks_process

        try:
            callbacks_process.delay()
        except Exception:
            logger.exception("could not start a second callback processor")


def callback_event_fail(*, event_id: int, reason: str) -> None:
    """The last word of a task that could not process a callback."""
    CallbackEvent.objects.filter(pk=event_id).exclude(state=CallbackEvent.State.PROCESSED).update(
        state=CallbackEvent.State.FAILED, result=reason[:2000], processed_at=timezone.now()
    )


def _status_handle(*, event: CallbackEvent, parsed: ParsedCallback) -> Outcome:
    return _status_outcomes([event])[0]


def _status_outcomes(events: list[CallbackEvent]) -> list[Outcome]:
    """Apply status callbacks (accepted, stored), in the order given: one query finds their
    messages, one `message_statuses_record` writes every step. What came of each, in order."""
    wanted: dict[int, set[str]] = {}
    for event in events:
        wanted.setdefault(event.integration.project_id, set()).add(event.wappin_message_id)
    message_ids: dict[tuple[int, str], int] = {}
    for project_id, wappin_ids in wanted.items():
        found = (
            Message.objects.filter(
                project_id=project_id,
                direction=Message.Direction.OUTGOING,
                wappin_message_id__in=wappin_ids,
            )
            .order_by("-id")  # the first one sent wins, as `.first()` would
            .values_list("wappin_message_id", "pk")
        )
        for wappin_id, pk in found:
            message_ids[(project_id, wappin_id)] = pk
    steps, words = [], []
    for event in events:
        message_id = message_ids.get((event.integration.project_id, event.wappin_message_id))
        if message_id is None:
            continue
        word = event.status_value
        ours = messaging_services.WAPPIN_STATUS_MAP.get(word)
        if ours is None:
            # Recorded on the timeline as Wappin's word, never one that could pass for one of ours.
            status = (word if word not in Message.Status.values else f"wappin:{word}")[:20]
            detail = f"Wappin status '{word}' is unknown to the portal: kept, not applied."
        elif ours == Message.Status.FAILED:
            status, detail = ours, f"WhatsApp reported the message {word} (status callback)."
        else:
            status, detail = ours, ""
        steps.append(
            messaging_services.StatusStep(
                message_id=message_id,
                status=status,
                source=MessageStatusEvent.Source.CALLBACK,
                occurred_at=event.occurred_at or event.received_at,
                detail=detail,
            )
        )
        words.append((event.pk, word, ours))
    recorded = iter(zip(words, messaging_services.message_statuses_record(steps), strict=True))
    outcomes = []
    for event in events:
        if (event.integration.project_id, event.wappin_message_id) not in message_ids:
            outcomes.append(
                Outcome(
                    CallbackEvent.State.PENDING,
                    f"Waiting for message {event.wappin_message_id}: "
                    "kept until its send answer is stored.",
                )
            )
            continue
        (_, word, ours), (message, moved) = next(recorded)
        if ours is None:
            result = f"Unknown status '{word}' recorded on message #{message.pk}'s timeline, not applied."
        elif moved:
            result = f"Message #{message.pk} is now {message.status}."
        else:
            result = (
                f"'{word}' recorded on message #{message.pk}; its status stays {message.status}."
            )
        outcomes.append(Outcome(CallbackEvent.State.PROCESSED, result, message=message))
    return outcomes


def _message_handle(*, event: CallbackEvent, parsed: ParsedCallback) -> Outcome:
    project = event.integration.project
    occurred_at = min(parsed.occurred_at or event.received_at, event.received_at)
    incoming = (
        Message.objects.select_related("contact")
        .filter(
            project=project,
            direction=Message.Direction.INCOMING,
            wappin_message_id=parsed.message_id,
        )
        .first()
    )
    if incoming is None:
        contact = contact_get_or_create(
            project=project, phone_number=parsed.sender_number, stored_form=True
        )
        incoming = Message.objects.create(
            project=project,
            integration=event.integration,
            contact=contact,
            direction=Message.Direction.INCOMING,
            kind=Message.Kind.TEXT,
            status=Message.Status.RECEIVED,
            phone_number=contact.phone_number,
            text=parsed.message_content,
            wappin_message_id=parsed.message_id,
            source=Message.Source.CUSTOMER,
            created_at=occurred_at,
        )
        MessageStatusEvent.objects.create(
            message=incoming,
            status=Message.Status.RECEIVED,
            source=MessageStatusEvent.Source.CALLBACK,
            occurred_at=occurred_at,
            applied=True,
        )
        webhook_events_emit(
            [
                message_webhook_event(
                    message=incoming,
                    status=Message.Status.RECEIVED,
                    occurred_at=occurred_at,
                    wappin_timestamp=parsed.occurred_at,
                )
            ]
        )
        # Opens (or extends) WhatsApp's 24-hour window; never moves it backwards.
        Contact.objects.filter(pk=contact.pk).filter(
            Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=occurred_at)
        ).update(last_inbound_at=occurred_at)
    contact = Contact.objects.get(pk=incoming.contact_id)
    if event.reply_id:
        return Outcome(CallbackEvent.State.PROCESSED, "Stored; already answered.", message=incoming)
    decision = chatbot_answer(
        project=project, contact=contact, text=parsed.message_content, received_at=occurred_at
    )
    return Outcome(
        CallbackEvent.State.PROCESSED, decision.result, message=incoming, reply=decision.reply
    )


CALLBACK_HANDLERS: dict[str, Callable[..., Outcome]] = {
    CallbackEvent.CallbackType.STATUS: _status_handle,
    CallbackEvent.CallbackType.MESSAGE: _message_handle,
}


# --- the chatbot ------------------------------------------------------------------------


@dataclass
class ChatbotDecision:
    result: str
    reply: Message | None = None


def _fold(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def _send_text(*, project: Project, contact: Contact, text: str) -> Message:
    return messaging_services.message_send_text(
        project=project, phone_number=contact.phone_number, text=text, source=Message.Source.CHATBOT
    )


def chatbot_answer(
    *, project: Project, contact: Contact, text: str, received_at: datetime
) -> ChatbotDecision:
    """Answer a customer's message: opt-out words first, then a person, a keyword or the default.

    Each reply goes through the messaging services as a normal outgoing message.
    """
    word = _fold(text)
    if word in OPT_OUT_WORDS:
        if contact.is_opted_out:
            return ChatbotDecision("Opt-out word again: already opted out, not confirmed twice.")
        opt_out_record(project=project, phone_number=contact.phone_number)
        reply = _send_text(
            project=project,
            contact=contact,
            text=project.opt_out_confirmation(opting_out=True, language=OPT_OUT_WORDS[word]),
        )
        return ChatbotDecision("Opted the contact out of marketing; confirmation sent.", reply)
    # START from a contact who never stopped is an ordinary message (a keyword, or the default).
    if word in OPT_IN_WORDS and contact.is_opted_out:
        opt_out_remove(project=project, phone_number=contact.phone_number)
        reply = _send_text(
            project=project,
            contact=contact,
            text=project.opt_out_confirmation(opting_out=False, language=OPT_IN_WORDS[word]),
        )
        return ChatbotDecision("Opted the contact back in; confirmation sent.", reply)

    if contact.handed_over_at is not None:
        return ChatbotDecision("Handed over to a person: the chatbot stays silent.")
    if timezone.now() - received_at >= CUSTOMER_SERVICE_WINDOW:
        return ChatbotDecision("Older than WhatsApp's 24-hour window: no automatic answer.")

    keyword = keyword_match(project=project, text=text)
    if keyword is not None:
        reply = None
        if keyword.scenario == keyword.Scenario.CHAT_PANEL:
            Contact.objects.filter(pk=contact.pk).update(handed_over_at=timezone.now())
            reply = _keyword_reply(project=project, contact=contact, keyword=keyword)
            sent = "with its response" if reply else "no response set"
            return ChatbotDecision(
                f"Keyword '{keyword.keyword}' handed the chat to a person ({sent}).", reply
            )
        reply = _keyword_reply(project=project, contact=contact, keyword=keyword)
        if reply is None:
            return ChatbotDecision(
                f"Keyword '{keyword.keyword}' matched but has no response to send."
            )
        return ChatbotDecision(f"Keyword '{keyword.keyword}' answered.", reply)

    if project.default_chatbot_message.strip():
        reply = _send_text(project=project, contact=contact, text=project.default_chatbot_message)
        return ChatbotDecision("No keyword matched: default chatbot message sent.", reply)
    return ChatbotDecision("No keyword matched and the project has no default chatbot message.")


def _keyword_reply(*, project: Project, contact: Contact, keyword) -> Message | None:
    if keyword.response_type == keyword.ResponseType.TEXT or not keyword.response_media:
        if not keyword.response_text.strip():
            return None
        return _send_text(project=project, contact=contact, text=keyword.response_text)
    return messaging_services.message_send_media(
        project=project,
        phone_number=contact.phone_number,
        media_type=keyword.response_type,
        media=keyword.response_media,
        caption=keyword.caption,
        source=Message.Source.CHATBOT,
    )


def chat_reply(*, contact: Contact, text: str, actor: AbstractBaseUser | None) -> Message:
    """A person answers a customer from the chat panel (inside the 24-hour window)."""
    capability_require(project=contact.project, capability="chat.reply", actor=actor)
    return messaging_services.message_send_text(
        project=contact.project,
        phone_number=contact.phone_number,
        text=text,
        source=Message.Source.USER,
        sent_by=actor,
    )


def chat_hand_back(*, contact: Contact, actor: AbstractBaseUser | None = None) -> Contact:
    """A person is done: the chatbot answers this contact again."""
    capability_require(project=contact.project, capability="chat.reply", actor=actor)
    Contact.objects.filter(pk=contact.pk).update(handed_over_at=None)
    contact.refresh_from_db()
    return contact


def chat_assign(
    *, contact: Contact, assignee: AbstractBaseUser | None, actor: AbstractBaseUser
) -> Conversation:
    """Give a conversation to a member who may chat (None: nobody), audited with who did it.

    The actor and the assignee must be admin or marketing members of the contact's project."""
    capability_require(project=contact.project, capability="chat.reply", actor=actor)
    assignee_role = (
        membership_role(user=assignee, project=contact.project) if assignee is not None else None
    )
    if assignee is not None and not role_can(assignee_role, "chat.reply"):
        raise ValidationFailed(
            gettext("%(user)s may not answer this project's customers.") % {"user": assignee},
            field="assignee",
            code="chat_assignee_not_allowed",
        )
    with transaction.atomic():
        conversation, _created = Conversation.objects.select_for_update().get_or_create(
            contact=contact
        )
        previous = conversation.assigned_to
        conversation.assigned_to = assignee
        conversation.assigned_at = timezone.now() if assignee is not None else None
        conversation.save()
        audit_record(
            action="chat.assign",
            project=contact.project,
            actor=actor,
            target=str(contact),
            data={
                "contact_id": contact.pk,
                "from": previous.get_username() if previous else None,
                "to": assignee.get_username() if assignee else None,
            },
        )
    return conversation


def chat_mark_read(*, contact: Contact, user: AbstractBaseUser, up_to_message_id: int) -> None:
    """`user` has seen this conversation up to that message (the marker never moves back)."""
    if not up_to_message_id:
        return
    marker, created = ConversationRead.objects.get_or_create(
        contact=contact, user=user, defaults={"last_read_message_id": up_to_message_id}
    )
    if not created and marker.last_read_message_id < up_to_message_id:
        ConversationRead.objects.filter(
            pk=marker.pk, last_read_message_id__lt=up_to_message_id
        ).update(last_read_message_id=up_to_message_id, read_at=timezone.now())


# --- the callback log's retention -------------------------------------------------------


def callbacks_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Nightly: forget refused callbacks after `CALLBACK_REFUSED_RETENTION_DAYS` and every
    other settled one after `CALLBACK_LOG_RETENTION_DAYS` (pending ones wait for the sweep)."""
    now = now or timezone.now()
    refused = rows_delete(
        CallbackEvent.objects.exclude(
            verdict__in=[CallbackEvent.Verdict.ACCEPTED, CallbackEvent.Verdict.DUPLICATE]
        ).filter(received_at__lt=now - timedelta(days=settings.CALLBACK_REFUSED_RETENTION_DAYS))
    )
    settled = rows_delete(
        CallbackEvent.objects.exclude(state=CallbackEvent.State.PENDING).filter(
            received_at__lt=now - timedelta(days=settings.CALLBACK_LOG_RETENTION_DAYS)
        )
    )
    return {"refused": refused, "settled": settled}


# --- statuses that came before their message, and lost tasks --------------------------


def _in_the_order_they_happened(events: list[CallbackEvent]) -> list[CallbackEvent]:
    """By when Wappin says each happened, then by status rank ("delivered" before "read" of
    the same second): the order that leaves each message's timeline and timestamps right."""
    rank = {
        word: Message.STATUS_RANK.get(ours, 9)
        for word, ours in messaging_services.WAPPIN_STATUS_MAP.items()
    }
    return sorted(
        events, key=lambda e: (e.occurred_at or e.received_at, rank.get(e.status_value, 9), e.pk)
    )


def callbacks_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Process what is still pending (a lost task, a status still waiting); give up on the old."""
    now = now or timezone.now()
    stale = CallbackEvent.objects.filter(
        verdict=CallbackEvent.Verdict.ACCEPTED,
        state=CallbackEvent.State.PENDING,
        received_at__lt=now - PENDING_MAX_AGE,
    ).update(
        state=CallbackEvent.State.SKIPPED,
        processed_at=now,
        result="Gave up: no message with this Wappin id was sent from this portal.",
    )
    pending = list(
        CallbackEvent.objects.filter(
            verdict=CallbackEvent.Verdict.ACCEPTED,
            state=CallbackEvent.State.PENDING,
            received_at__lt=now - SWEEP_GRACE,
        )
        .order_by("received_at", "id")
        .only("pk", "received_at", "occurred_at", "status_value")[:500]
    )
    for event in _in_the_order_they_happened(pending):
        with transaction.atomic():
            locked = (
                _events_for_processing()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(pk=event.pk, state=CallbackEvent.State.PENDING)
                .first()
            )
            if locked is not None:
                _event_apply_guarded(locked)
    return {"retried": len(pending), "given_up": stale}
