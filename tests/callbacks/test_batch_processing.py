"""Callbacks at blast speed: no task per callback, rows applied in batches, no secret decrypted."""

from __future__ import annotations

import hashlib
import threading

from django.core.cache import cache
from django.db import connection, connections

import pytest

from callbacks import services
from callbacks.models import CallbackEvent
from messaging.models import Message
from projects.models import WappinCredential
from tests import factories
from tests.callbacks.conftest import CURRENT_TOKEN, status_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_processor_woken():
    cache.delete_many([services.WAKE_KEY, services.HELPER_KEY])
    yield
    cache.delete_many([services.WAKE_KEY, services.HELPER_KEY])


@pytest.fixture
def published(monkeypatch):
    """The `callbacks_process` tasks the endpoint publishes, recorded instead of run."""
    from callbacks.tasks import callbacks_process

    calls = []
    monkeypatch.setattr(callbacks_process, "delay", lambda *a, **kw: calls.append((a, kw)))
    return calls


def _sent(integration, wappin_message_id: str) -> Message:
    return factories.MessageFactory(
        project=integration.project,
        integration=integration,
        kind=Message.Kind.HSM,
        status=Message.Status.SENT,
        wappin_message_id=wappin_message_id,
    )


def test_a_burst_of_callbacks_publishes_one_task_and_one_processor_applies_them_all(
    integration, post_callback, published
):
    # Given 30 sent messages
    messages = [_sent(integration, f"burst{index}") for index in range(30)]

    # When Wappin posts a "delivered" for each, one after the other
    for index in range(30):
        response = post_callback(integration, status_body(f"burst{index}", "delivered"))
        assert response.json() == {"status": "000"}

    # Then one processor task was published, not thirty, and the rows wait for it
    assert len(published) == 1
    assert CallbackEvent.objects.filter(state="pending").count() == 30

    # When it runs
    applied = services.callbacks_process_fresh()

    # Then every status is applied once, and the next callback wakes a processor again
    assert applied == 30
    assert set(CallbackEvent.objects.values_list("state", "attempts")) == {("processed", 1)}
    assert {m.status for m in Message.objects.filter(pk__in=[m.pk for m in messages])} == {
        "delivered"
    }
    _sent(integration, "after")
    post_callback(integration, status_body("after", "read"))
    assert len(published) == 2


def test_a_processor_that_finds_a_backlog_starts_one_helper(integration, post_callback, published):
    # Given 30 stored callbacks, one processor task published for them
    for index in range(30):
        _sent(integration, f"backlog{index}")
        post_callback(integration, status_body(f"backlog{index}", "delivered"))
    assert len(published) == 1

    # When the processor takes them in batches of 7 (full batches: a backlog)
    assert services.callbacks_process_fresh(batch=7) == 30

    # Then it asked for one helper processor, not one per full batch
    assert len(published) == 2
    assert set(CallbackEvent.objects.values_list("state", "attempts")) == {("processed", 1)}


def test_a_callback_stored_while_the_processor_is_woken_is_still_applied(
    integration, post_callback, published
):
    # Given a processor already woken (its task on the way) when a callback is stored
    message = _sent(integration, "late1")
    cache.add(services.WAKE_KEY, "1", timeout=60)
    post_callback(integration, status_body("late1", "delivered"))
    assert published == []

    # When that processor runs
    assert services.callbacks_process_fresh() == 1

    # Then it applied the row, and released the key for the next one
    message.refresh_from_db()
    assert message.status == "delivered"
    assert cache.get(services.WAKE_KEY) is None


def test_one_callback_that_breaks_costs_its_own_try_not_the_batch(
    integration, post_callback, published, monkeypatch
):
    # Given three stored statuses, the second of which makes processing raise (a bug)
    for index in range(3):
        _sent(integration, f"oops{index}")
        post_callback(integration, status_body(f"oops{index}", "delivered"))
    real = services._status_outcomes

    def outcomes(events):
        if any(event.wappin_message_id == "oops1" for event in events):
            raise RuntimeError("a bug")
        return real(events)

    monkeypatch.setattr(services, "_status_outcomes", outcomes)

    # When the processor runs (the batch fails as a whole, then each is tried on its own)
    services.callbacks_process_fresh()

    # Then the others are applied; the broken one waits for the sweep with the error written on it
    states = dict(CallbackEvent.objects.values_list("wappin_message_id", "state"))
    assert states == {"oops0": "processed", "oops1": "pending", "oops2": "processed"}
    broken = CallbackEvent.objects.get(wappin_message_id="oops1")
    assert broken.attempts == 1
    assert "RuntimeError('a bug')" in broken.result
    assert "the sweep tries again" in broken.result

    # ... and after its last try the sweep leaves it failed, for a person to look at
    for _ in range(services.PROCESS_MAX_ATTEMPTS - 1):
        CallbackEvent.objects.filter(pk=broken.pk).update(
            received_at=broken.received_at - services.SWEEP_GRACE * 2
        )
        services.callbacks_sweep()
    broken.refresh_from_db()
    assert (broken.state, broken.attempts) == ("failed", services.PROCESS_MAX_ATTEMPTS)
    assert broken.processed_at is not None


def test_receiving_and_processing_a_callback_decrypts_no_secret(
    integration, post_callback, published, monkeypatch
):
    # Given a sent message, and every decryption of a stored secret counted
    _sent(integration, "nodecrypt")
    from wappin_portal import fields

    decrypted = []
    real = fields.EncryptedTextField.from_db_value

    def counting(self, value, expression, conn):
        decrypted.append(self.name)
        return real(self, value, expression, conn)

    monkeypatch.setattr(fields.EncryptedTextField, "from_db_value", counting)

    # When Wappin posts a status and the processor applies it
    assert post_callback(integration, status_body("nodecrypt", "delivered")).status_code == 200
    services.callbacks_process_fresh()

    # Then it went through without reading a client key, secret key or token
    assert CallbackEvent.objects.get().state == "processed"
    assert [name for name in decrypted if name] == []


def test_the_token_digests_follow_every_token_change(integration):
    # Given the current token of the integration's Wappin client, checked by digest
    credential = integration.credential
    assert credential.access_token_digest == hashlib.sha256(CURRENT_TOKEN.encode()).hexdigest()

    # When the token is refreshed the way the client stores it (update_fields)
    credential.previous_access_token = credential.access_token
    credential.access_token = "a-new-token"
    credential.save(update_fields=["access_token", "previous_access_token", "updated_at"])

    # Then both digests follow, in the database too, and a cleared token clears its digest
    stored = WappinCredential.objects.get(pk=credential.pk)
    assert stored.access_token_digest == hashlib.sha256(b"a-new-token").hexdigest()
    assert stored.previous_access_token_digest == hashlib.sha256(CURRENT_TOKEN.encode()).hexdigest()
    stored.access_token = ""
    stored.save(update_fields=["access_token"])
    assert WappinCredential.objects.get(pk=credential.pk).access_token_digest == ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED: PostgreSQL's (SQLite has one writer)"
)
def test_two_processors_at_once_apply_each_callback_exactly_once(published):
    # Given 400 stored statuses of sent messages
    project = factories.ProjectFactory(wappin_project_id="16", client_id="0009")
    integration = factories.IntegrationFactory(project=project, kind="chatbot")
    for index in range(400):
        _sent(integration, f"pair{index}")
    CallbackEvent.objects.bulk_create(
        [
            CallbackEvent(
                integration=integration,
                body=status_body(f"pair{index}", "delivered"),
                verdict=CallbackEvent.Verdict.ACCEPTED,
                state=CallbackEvent.State.PENDING,
                callback_type="status",
                wappin_message_id=f"pair{index}",
                status_value="delivered",
                dedupe_key=f"{integration.pk}:pair{index}",
            )
            for index in range(400)
        ]
    )

    # When two processors run at the same time, in small batches
    results, errors = [], []

    def run():
        try:
            results.append(services.callbacks_process_fresh(batch=20))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then they shared the rows: together exactly 400, each applied once
    assert errors == []
    assert sum(results) == 400
    assert set(CallbackEvent.objects.values_list("state", "attempts")) == {("processed", 1)}
    assert Message.objects.filter(status="delivered").count() == 400


def test_a_batch_applies_statuses_in_the_order_they_happened_in_a_few_queries(
    integration, post_callback, published, django_assert_max_num_queries
):
    # Given, stored in one go: "read" before "delivered" for one message, an unknown word for
    # another, a status of a message not stored yet, and 30 "delivered" of other messages
    first = _sent(integration, "order1")
    odd = _sent(integration, "odd1")
    post_callback(integration, status_body("order1", "read", timestamp="1557915520"))
    post_callback(integration, status_body("order1", "delivered", timestamp="1557915510"))
    post_callback(integration, status_body("odd1", "queued_at_whatsapp"))
    post_callback(integration, status_body("notyet1", "delivered"))
    for index in range(30):
        _sent(integration, f"many{index}")
        post_callback(integration, status_body(f"many{index}", "delivered"))

    # When one processor batch applies them (the queries do not grow with the batch)
    with django_assert_max_num_queries(14):
        assert services._fresh_batch_apply(limit=100) == 34

    # Then the first message's timeline is in the order Wappin saw it
    first.refresh_from_db()
    assert first.status == "read"
    assert first.delivered_at.timestamp() == 1557915510
    assert first.read_at.timestamp() == 1557915520
    assert list(first.status_events.filter(source="callback").values_list("status", "applied")) == [
        ("delivered", True),
        ("read", True),
    ]
    # ... the unknown word is on the timeline, not applied; the early status waits
    odd.refresh_from_db()
    assert odd.status == "sent"
    assert odd.status_events.get(source="callback").status == "queued_at_whatsapp"
    unknown = CallbackEvent.objects.get(wappin_message_id="odd1")
    assert (unknown.state, unknown.message) == ("processed", odd)
    assert "Unknown status 'queued_at_whatsapp'" in unknown.result
    waiting = CallbackEvent.objects.get(wappin_message_id="notyet1")
    assert (waiting.state, waiting.attempts) == ("pending", 1)
    assert "Waiting for message notyet1" in waiting.result
    # ... and the 30 others are delivered, each callback linked to its message
    assert (
        Message.objects.filter(wappin_message_id__startswith="many", status="delivered").count()
        == 30
    )
    assert CallbackEvent.objects.filter(state="processed", message__isnull=False).count() == 33
