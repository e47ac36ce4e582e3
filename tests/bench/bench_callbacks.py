"""Benchmark 4: status callbacks per second stay flat as the callback log grows; a retry costs less."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.models import CallbackEvent
from messaging.models import Message
from tests.bench.bench_data import Tenant, callback_log_fill, status_callback_body
from tests.bench.bench_kit import BenchError, Result, expect_status

CALLBACKS = 300
WARMUP = 20
DUPLICATES = 150
LOG_SIZE = 100_000
GROWTH_TARGET = 1.5
DUPLICATE_TARGET = 1.0
TOKEN = "bench-callback-token-0123456789"


def _sent_messages(tenant: Tenant, prefix: str, count: int) -> list[str]:
    """`count` messages Wappin has accepted (status sent), whose callbacks are about to come."""
    now = timezone.now()
    ids = [f"{prefix}{n:09x}" for n in range(count)]
    rows = [
        Message(
            project=tenant.project,
            integration=tenant.integration,
            kind=Message.Kind.HSM,
            status=Message.Status.SENT,
            phone_number=f"62813{n:08d}",
            template=tenant.template,
            template_name=tenant.template.name,
            language_code="id",
            params={"1": "Budi", "2": f"INV-{n}"},
            source=Message.Source.API_KEY,
            api_key=tenant.api_key,
            wappin_message_id=wappin_id,
            send_attempts=1,
            created_at=now - timedelta(seconds=count - n),
            sent_at=now - timedelta(seconds=count - n - 1),
        )
        for n, wappin_id in enumerate(ids)
    ]
    with transaction.atomic():
        Message.objects.bulk_create(rows, batch_size=2000)
    return ids


class _Poster:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.client = Client()
        self.url = reverse("callbacks:wappin", kwargs={"key": tenant.integration.callback_key})
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

    def post(self, body: bytes) -> float:
        started = time.perf_counter()
        response = self.client.post(self.url, body, content_type="application/json", **self.headers)
        elapsed = time.perf_counter() - started
        expect_status(response, what="callback")
        if response.json().get("status") != "000":
            raise BenchError(f"callback answered {response.json()!r}")
        return elapsed

    def run(self, bodies: list[bytes]) -> tuple[float, list[float]]:
        """(total seconds, per-callback seconds) for posting `bodies` one after the other."""
        latencies = []
        started = time.perf_counter()
        for body in bodies:
            latencies.append(self.post(body))
        return time.perf_counter() - started, latencies


def bench_callbacks(*, tenant: Tenant) -> list[Result]:
    integration = tenant.integration
    credential = integration.credential  # the Wappin client's token, shared
    credential.access_token = TOKEN
    credential.save()
    project = tenant.project
    poster = _Poster(tenant)
    now = timezone.now()

    def bodies(ids: list[str]) -> list[bytes]:
        return [
            status_callback_body(
                project=project, message_id=wappin_id, status="delivered", when=now
            )
            for wappin_id in ids
        ]

    # Given messages waiting for their callbacks and an empty log
    warm = _sent_messages(tenant, "cbw", WARMUP)
    empty_ids = _sent_messages(tenant, "cbe", CALLBACKS)
    full_ids = _sent_messages(tenant, "cbf", CALLBACKS)
    poster.run(bodies(warm))
    CallbackEvent.objects.all().delete()
    # When the callbacks come to an empty log, then to one with LOG_SIZE callbacks in it
    empty_seconds, _ = poster.run(bodies(empty_ids))
    callback_log_fill(integration=integration, count=LOG_SIZE)
    log_rows = CallbackEvent.objects.count()
    full_seconds, fresh_latencies = poster.run(bodies(full_ids))
    # And Wappin retries some of them
    _, duplicate_latencies = poster.run(bodies(full_ids[:DUPLICATES]))

    delivered = Message.objects.filter(
        project=project, wappin_message_id__in=empty_ids + full_ids, status=Message.Status.DELIVERED
    ).count()
    if delivered != 2 * CALLBACKS:
        raise BenchError(f"callbacks: {delivered} of {2 * CALLBACKS} messages delivered")
    duplicates = CallbackEvent.objects.filter(verdict=CallbackEvent.Verdict.DUPLICATE).count()
    if duplicates != DUPLICATES:
        raise BenchError(f"callbacks: {duplicates} duplicates stored, expected {DUPLICATES}")

    empty_rate = CALLBACKS / empty_seconds
    full_rate = CALLBACKS / full_seconds
    fresh_median = statistics.median(fresh_latencies[:DUPLICATES])
    duplicate_median = statistics.median(duplicate_latencies)
    return [
        Result(
            key="4",
            name="Callback ingestion /callbacks/wappin/<key>/",
            measured=(
                f"{full_rate:,.0f} callbacks/s with {log_rows:,} in the log vs {empty_rate:,.0f}/s "
                f"with an empty log (stored + applied, eager)"
            ),
            ratio=empty_rate / full_rate,
            target=GROWTH_TARGET,
            figures={
                "callbacks": CALLBACKS,
                "log_rows": log_rows,
                "empty_log_callbacks_per_second": empty_rate,
                "full_log_callbacks_per_second": full_rate,
            },
        ),
        Result(
            key="4b",
            name="Callback retry (duplicate) vs fresh",
            measured=f"median {duplicate_median * 1000:.2f} ms per duplicate vs {fresh_median * 1000:.2f} ms per fresh one",
            ratio=duplicate_median / fresh_median,
            target=DUPLICATE_TARGET,
            figures={
                "duplicates": DUPLICATES,
                "duplicate_median_seconds": duplicate_median,
                "fresh_median_seconds": fresh_median,
            },
        ),
    ]
