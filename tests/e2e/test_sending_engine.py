"""The sending engine under real worker processes: the shared rate cap, a worker killed mid-blast, lanes.

Counted where it matters: the sandbox's own receive times (`created_at` of what it
accepted), not the portal's idea of when it sent.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

from django.core.cache import cache
from django.db import connections
from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from messaging.models import Blast, Message
from messaging.sending import delivery, engine
from messaging.sending.ratelimit import DatabaseRateLimiter, RedisRateLimiter, slot_interval
from projects.models import Integration
from projects.services import api_key_create
from tests import factories
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TEMPLATE = "order_shipped"
PARAMS = {"1": "Budi", "2": "INV-1"}


@pytest.fixture
def make_integration(wappin_sandbox):
    def make(*, max_messages_per_second: int) -> Integration:
        project = factories.ProjectFactory()
        integration = factories.IntegrationFactory(
            project=project,
            kind=Integration.Kind.NOTIFICATION,
            max_messages_per_second=max_messages_per_second,
        )
        template = factories.TemplateFactory(project=project, name=TEMPLATE)
        factories.TemplateLanguageFactory(template=template, language_code="id")
        wappin_sandbox.register(integration)
        return integration

    return make


def _blast_queue(integration: Integration, *, count: int) -> Blast:
    """A running blast with `count` queued messages, as its expansion leaves them."""
    blast = Blast.objects.create(
        project=integration.project,
        name="Promo",
        template_name=TEMPLATE,
        language_code="id",
        status=Blast.Status.RUNNING,
        audience_count=count,
        started_at=timezone.now(),
    )
    Message.objects.bulk_create(
        [
            Message(
                project=integration.project,
                integration=integration,
                blast=blast,
                kind=Message.Kind.HSM,
                source=Message.Source.BLAST,
                phone_number=f"62812{index:08d}",
                template_name=TEMPLATE,
                language_code="id",
                params=PARAMS,
            )
            for index in range(count)
        ],
        batch_size=500,
    )
    return blast


def _received(wappin_sandbox, integration: Integration) -> list[dict]:
    return wappin_sandbox.sent(project_id=integration.project.wappin_project_id)


def _busiest_second(times: list[float]) -> int:
    """The most receipts in any 1-second window (sliding, half-open)."""
    times = sorted(times)
    busiest = first = 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


def _dispatch_reports(log: str) -> list[int]:
    """How many messages each dispatcher a worker ran sent (from Celery's 'succeeded' lines)."""
    return [
        int(sent)
        for sent in re.findall(
            r"messaging\.messages_dispatch\[[^\]]+\] succeeded in [^:]+: \{'sent': (\d+)", log
        )
    ]


def test_the_rate_cap_holds_across_three_worker_processes(
    wappin_sandbox, make_integration, celery_workers, settings
):
    # Given an integration capped at 20 a second, 120 queued blast messages and 3 workers
    cap, total = 20, 120
    integration = make_integration(max_messages_per_second=cap)
    _blast_queue(integration, count=total)
    settings.SEND_DISPATCHERS_PER_INTEGRATION = 3
    workers = celery_workers.start(3, env={"SEND_DISPATCHERS_PER_INTEGRATION": "3"})

    # When three dispatchers serve it at once
    assert engine.send_queue_wake(integration_id=integration.pk, dispatchers=3) == 3
    wait_for(
        lambda: (
            Message.objects.filter(integration=integration, status=Message.Status.SENT).count()
            == total
        ),
        timeout=60,
        what=f"all {total} messages to be sent",
    )

    # Then Wappin received each once, never more than the cap in any second, and not in one burst
    received = _received(wappin_sandbox, integration)
    assert len(received) == total
    times = [record["created_at"] for record in received]
    assert _busiest_second(times) <= cap
    mean_rate = (len(times) - 1) / (max(times) - min(times))
    assert mean_rate >= 0.8 * cap, f"mean {mean_rate:.1f}/s"
    # ... and every worker process sent a share (three dispatchers ran at once)
    wait_for(
        lambda: all(_dispatch_reports(celery_workers.log(worker)) for worker in workers),
        what="each worker's dispatcher to finish",
    )
    for worker in workers:
        assert sum(_dispatch_reports(celery_workers.log(worker))) > 0, celery_workers.log(worker)


def test_a_worker_killed_mid_blast_never_sends_a_message_twice(
    wappin_sandbox, make_integration, celery_workers
):
    # Given 300 queued blast messages, Wappin answering in 200 ms, and one worker sending them
    total = 300
    integration = make_integration(max_messages_per_second=80)
    blast = _blast_queue(integration, count=total)
    wappin_sandbox.knobs(latency_ms=200)
    (worker,) = celery_workers.start()
    assert engine.send_queue_wake(integration_id=integration.pk) == 1

    # When the worker is killed with SIGKILL once about a third have reached Wappin
    wait_for(
        lambda: len(_received(wappin_sandbox, integration)) >= total // 3,
        timeout=60,
        interval=0.05,
        what="a third of the blast to reach Wappin",
    )
    os.kill(worker.pid, signal.SIGKILL)  # the solo pool: no child processes
    worker.wait(timeout=15)
    in_flight = set(
        Message.objects.filter(blast=blast, status=Message.Status.SENDING).values_list(
            "pk", flat=True
        )
    )
    assert in_flight, "the kill should catch some sends in flight"
    # ... its dispatcher's lease would lapse after DISPATCHER_LEASE_SECONDS; this stands in for the wait
    for slot in range(3):
        cache.delete(engine.dispatcher_lease_key(integration.pk, slot))
    # ... the sweep (run here, as if SENDING_STALE_AFTER had passed) finds the dead worker's sends
    swept = engine.messages_sending_sweep(
        now=timezone.now() + engine.SENDING_STALE_AFTER + timedelta(seconds=1)
    )
    assert swept["unknown"] == len(in_flight)
    assert swept["woken"] >= 1
    # ... and a new worker takes over
    celery_workers.start()
    wait_for(
        lambda: (
            not Message.objects.filter(
                blast=blast, status__in=[Message.Status.QUEUED, Message.Status.SENDING]
            ).exists()
        ),
        timeout=60,
        what="the new worker to send the rest",
    )

    # Then no recipient got the message twice
    received = _received(wappin_sandbox, integration)
    per_number = Counter(record["recipient_number_normalised"] for record in received)
    assert per_number.most_common(1)[0][1] == 1
    wappin_id_of = {
        record["recipient_number_normalised"]: record["message_id"] for record in received
    }
    # ... every message is sent with Wappin's id, or unknown (exactly those in flight at the kill)
    messages = list(Message.objects.filter(blast=blast))
    assert Counter(message.status for message in messages).keys() <= {
        Message.Status.SENT,
        Message.Status.UNKNOWN,
    }
    for message in messages:
        if message.status == Message.Status.SENT:
            assert message.wappin_message_id == wappin_id_of[message.phone_number]
    unknown = [message for message in messages if message.status == Message.Status.UNKNOWN]
    assert {message.pk for message in unknown} == in_flight
    assert all(not message.wappin_message_id for message in unknown)
    # ... Wappin has the sent ones, and of the unknown ones those whose answer the kill lost
    unknown_received = [message for message in unknown if message.phone_number in wappin_id_of]
    assert len(received) == (len(messages) - len(unknown)) + len(unknown_received)

    # And the unknown ones are followed up, never sent blindly again.
    # FOR THE LEAD: orphan adoption (an unknown message without an id taking the Wappin id of
    # a pending status callback with the same number) is not on main as this is written, so
    # settling them now leaves them `unknown` (failed "no_answer" after UNKNOWN_GIVE_UP_AFTER).
    # Once adoption lands, turn Wappin's callbacks on here (`callbacks_enabled=True` and a
    # live server) and expect `unknown_received` to end `sent`/`delivered` with Wappin's id.
    delivery.messages_settle_unknown()
    assert (
        set(
            Message.objects.filter(blast=blast, status=Message.Status.UNKNOWN).values_list(
                "pk", flat=True
            )
        )
        == in_flight
    )
    assert len(_received(wappin_sandbox, integration)) == len(received)


def test_transactional_sends_go_ahead_of_a_running_blast(
    wappin_sandbox, make_integration, celery_workers
):
    # Given a blast of 1,000 messages being sent at a cap of 50 a second
    integration = make_integration(max_messages_per_second=50)
    blast = _blast_queue(integration, count=1000)
    celery_workers.start()
    assert engine.send_queue_wake(integration_id=integration.pk) == 1
    wait_for(
        lambda: len(_received(wappin_sandbox, integration)) >= 25,
        timeout=60,
        what="the blast to be under way",
    )

    # When 5 API sends come in meanwhile, one every 0.3 s
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=integration.project, name='e2e').raw_key}"
    )
    api_ids = []
    for index in range(5):
        response = client.post(
            "/api/v1/messages/hsm/",
            {"recipient_number": f"08129000000{index}", "type": TEMPLATE, "params": PARAMS},
            format="json",
        )
        assert response.status_code == 202, response.content
        api_ids.append(response.json()["id"])
        time.sleep(
            0.3
        )  # the scenario's pacing (sends arriving over time), not a wait for the worker

    # Then each is sent within 2 s of being queued, while the blast still has messages queued
    sent = wait_for(
        lambda: (
            rows
            if len(rows := list(Message.objects.filter(pk__in=api_ids, status=Message.Status.SENT)))
            == 5
            else None
        ),
        timeout=30,
        what="the API sends to be sent",
    )
    assert Message.objects.filter(blast=blast, status=Message.Status.QUEUED).exists()
    waits = {message.pk: (message.sent_at - message.created_at).total_seconds() for message in sent}
    assert max(waits.values()) <= 2.0, waits
    # (Ends the test quickly: a cancelled blast's messages are not sent, so the dispatcher stops.)
    Blast.objects.filter(pk=blast.pk).update(status=Blast.Status.CANCELLED)


# --- The rate limiters on their own ------------------------------------------------------------


def _redis_limiter(settings) -> RedisRateLimiter:
    url = settings.SEND_RATE_REDIS_URL
    if not url:
        pytest.skip("no Redis configured (SEND_RATE_REDIS_URL / CACHE_URL)")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    return RedisRateLimiter(url)


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_the_rate_limiter_gives_threads_distinct_slots_spaced_by_the_cap(backend, settings):
    limiter = DatabaseRateLimiter() if backend == "database" else _redis_limiter(settings)
    # A slow rate, so the microseconds between the limiter's clock and ours are nothing next
    # to the slots' spacing (nothing waits: reserve only says how long to wait).
    rate, threads, per_thread = 0.1, 4, 5
    key = f"test:{uuid.uuid4().hex}"
    start = threading.Barrier(threads)
    reservations: dict[int, list[tuple[float, float]]] = {}

    def reserve(worker: int) -> None:
        try:
            start.wait()
            mine = reservations.setdefault(worker, [])
            for _ in range(per_thread):
                delay = limiter.reserve(key=key, rate=rate, count=1)
                mine.append((delay, time.time() + delay))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=reserve, args=(worker,)) for worker in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=30)
    if backend == "redis":
        limiter._redis.delete(f"wappin:send-rate:{key}")

    # Each thread's delays grow, one slot after the other
    for mine in reservations.values():
        delays = [delay for delay, _ in mine]
        assert delays == sorted(delays) and len(set(delays)) == len(delays)
    # ... and together the threads hold N distinct slots, each 1/rate (and the margin) after the last
    slots = sorted(slot for mine in reservations.values() for _, slot in mine)
    assert len(slots) == threads * per_thread
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= 1 / rate
    assert max(gaps) <= slot_interval(rate) + 0.25  # consecutive: no slot skipped
