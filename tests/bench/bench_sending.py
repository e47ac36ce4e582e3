"""Benchmarks 5-7: the send accept path, the sandbox's headroom and delivery through the real client."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

from django.test import Client
from django.urls import reverse

from messaging.models import Message
from messaging.wappin import WappinClient
from projects.models import Integration
from tests.bench.bench_data import Tenant
from tests.bench.bench_kit import (
    SAMPLES,
    BenchError,
    Result,
    expect_status,
    medians_interleaved,
    ms,
)

ACCEPT_TARGET = 15.0
HEADROOM_TARGET = 2.0
DELIVERY_TARGET = 1.5
SANDBOX_SECONDS = 3.0
SANDBOX_CONCURRENCY = 4
CLIENT_SECONDS = 3.0
DELIVERY_SMALL = 50
DELIVERY_BIG = 500


@contextmanager
def _tasks_enqueued_not_run():
    """Celery as in production, on the in-memory broker: `delay()` publishes, nothing consumes."""
    from wappin_portal.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write() as connection:
            if connection.transport.driver_type != "memory":
                raise BenchError(f"the bench needs the memory:// broker, not {connection.as_uri()}")
        yield app
    finally:
        app.conf.task_always_eager = saved


def _queued_tasks(app) -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare(queue="celery", passive=True).message_count


def _text_poster(tenant: Tenant, client: Client):
    url = reverse("api_message_send_text")
    numbers = tenant.numbers
    sent = [0]

    def post() -> None:
        number = numbers[sent[0] % len(numbers)]
        sent[0] += 1
        response = client.post(
            url,
            {
                "recipient_number": number,
                "message_content": f"Pesanan Anda sedang diproses ({sent[0]}).",
            },
            content_type="application/json",
        )
        expect_status(response, 202, what=f"POST {url}")

    return post, sent


def bench_send_accept(*, tenant: Tenant) -> Result:
    client = Client(**tenant.api_headers)
    health = reverse("healthz")

    def healthz() -> None:
        expect_status(client.get(health), what="GET /healthz")

    post, sent = _text_poster(tenant, client)
    with _tasks_enqueued_not_run() as app:
        medians = medians_interleaved({"send": post, "healthz": healthz}, samples=2 * SAMPLES)
        burst = 200
        started = time.perf_counter()
        for _ in range(burst):
            post()
        accepted_per_second = burst / (time.perf_counter() - started)
        enqueued = _queued_tasks(app)
    queued = Message.objects.filter(project=tenant.project, status=Message.Status.QUEUED).count()
    if enqueued != sent[0] or queued != sent[0]:
        raise BenchError(
            f"send accept: {sent[0]} accepted, {queued} queued rows, {enqueued} tasks on the broker"
        )
    return Result(
        key="5",
        name="Send accept POST /api/v1/messages/text/",
        measured=(
            f"median {ms(medians['send'])} vs GET /healthz {ms(medians['healthz'])}; "
            f"{accepted_per_second:,.0f} accepted/s (enqueued, not sent)"
        ),
        ratio=medians["send"] / medians["healthz"],
        target=ACCEPT_TARGET,
        figures={
            "send_median_seconds": medians["send"],
            "healthz_median_seconds": medians["healthz"],
            "accepted_per_second": accepted_per_second,
            "tasks_enqueued": enqueued,
        },
    )


def _sandbox_requests_per_second(url: str) -> dict:
    completed = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "sandbox.bench",
            "--url",
            url,
            "--endpoint",
            "hsm",
            "--seconds",
            str(SANDBOX_SECONDS),
            "--concurrency",
            str(SANDBOX_CONCURRENCY),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(
            f"sandbox.bench failed: {completed.stdout[-500:]} {completed.stderr[-500:]}"
        )
    return json.loads(completed.stdout)


def _client_calls_per_second(tenant: Tenant) -> tuple[float, float]:
    client = WappinClient(
        Integration.objects.select_related("project").get(pk=tenant.integration.pk)
    )
    name = tenant.template.name

    def call(n: int) -> None:
        client.send_hsm(
            recipient_number="6281327666166", template_name=name, params={"1": "Budi", "2": str(n)}
        )

    for n in range(20):
        call(n)
    latencies = []
    deadline = time.perf_counter() + CLIENT_SECONDS
    started = time.perf_counter()
    n = 0
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        call(n)
        latencies.append(time.perf_counter() - began)
        n += 1
    return n / (time.perf_counter() - started), statistics.median(latencies)


def bench_sandbox_headroom(*, tenant: Tenant, sandbox_url: str) -> Result:
    sandbox = _sandbox_requests_per_second(sandbox_url)
    client_rate, client_median = _client_calls_per_second(tenant)
    sandbox_rate = sandbox["requests_per_second"]
    return Result(
        key="6",
        name="Sandbox headroom do-send-hsm",
        measured=(
            f"sandbox {sandbox_rate:,.0f} req/s ({SANDBOX_CONCURRENCY} clients, callbacks off) vs "
            f"portal client send_hsm {client_rate:,.0f} calls/s (p50 {ms(client_median)}, 1 thread)"
        ),
        ratio=sandbox_rate / client_rate,
        target=HEADROOM_TARGET,
        compare=">=",
        figures={
            "sandbox": sandbox,
            "client_calls_per_second": client_rate,
            "client_median_seconds": client_median,
        },
    )


def _deliver(post, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        post()
    return time.perf_counter() - started


def bench_delivery(*, tenant: Tenant) -> Result:
    """Accepted through the API and, tasks eager, delivered through the real client to the sandbox."""
    client = Client(**tenant.api_headers)
    post, sent = _text_poster(tenant, client)
    _deliver(post, 10)
    small_seconds = _deliver(post, DELIVERY_SMALL)
    big_seconds = _deliver(post, DELIVERY_BIG)
    delivered = (
        Message.objects.filter(
            project=tenant.project, kind=Message.Kind.TEXT, status=Message.Status.SENT
        )
        .exclude(wappin_message_id="")
        .count()
    )
    if delivered != sent[0]:
        raise BenchError(f"delivery: {delivered} of {sent[0]} messages sent to the sandbox")
    per_small = small_seconds / DELIVERY_SMALL
    per_big = big_seconds / DELIVERY_BIG
    return Result(
        key="7",
        name="Delivery: accept + send to the sandbox",
        measured=(
            f"{DELIVERY_BIG / big_seconds:,.0f} messages/s; {ms(per_big)} per message over {DELIVERY_BIG} "
            f"vs {ms(per_small)} over {DELIVERY_SMALL}"
        ),
        ratio=per_big / per_small,
        target=DELIVERY_TARGET,
        figures={
            "messages_per_second": DELIVERY_BIG / big_seconds,
            "per_message_seconds_big": per_big,
            "per_message_seconds_small": per_small,
            "delivered": delivered,
        },
    )
