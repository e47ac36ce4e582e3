"""Benchmarks 1-3: the history API, the history page and the CSV export stay flat as a project grows."""

from __future__ import annotations

import gc
import html
import re
import time
import tracemalloc
from datetime import timedelta
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import Message
from tests.bench.bench_data import Tenant
from tests.bench.bench_kit import BenchError, Result, expect_status, medians_interleaved, ms

DEPTH = 20
OLDER_LINK = re.compile(r'rel="next" href="(\?[^"]*)"')
LATENCY_TARGET = 2.0
EXPORT_MEMORY_TARGET = 1.5


def _api_client(tenant: Tenant) -> Client:
    return Client(**tenant.api_headers)


def _web_client(tenant: Tenant) -> Client:
    client = Client()
    client.force_login(tenant.user)
    return client


def _api_deep_url(client: Client, url: str, depth: int) -> str:
    """The URL of the page `depth` cursors after `url`, found by following `next`."""
    for _ in range(depth):
        data = expect_status(client.get(url), what=f"GET {url}").json()
        if not data.get("next"):
            raise BenchError(f"{url}: no page {depth} cursors deep")
        url = data["next"]
    return url


def _web_deep_url(client: Client, url: str, depth: int) -> str:
    """The same for the history page, following its "Older" link."""
    path = url.split("?", 1)[0]
    for _ in range(depth):
        response = expect_status(client.get(url), what=f"GET {url}")
        older = OLDER_LINK.search(response.content.decode())
        if older is None:
            raise BenchError(f"{url}: no page {depth} cursors deep")
        url = path + html.unescape(older.group(1))
    return url


def _getter(client: Client, url: str, *, rows: int | None = None):
    def call() -> None:
        response = expect_status(client.get(url), what=f"GET {url}")
        if rows is not None and len(response.json()["results"]) != rows:
            raise BenchError(f"GET {url}: {len(response.json()['results'])} rows, expected {rows}")

    return call


def _flat(
    key: str, name: str, *, small: Tenant, big: Tenant, urls: dict[str, tuple], figures: dict
) -> Result:
    """Median latency per page in the big project against the small one, page by page; the worst ratio."""
    calls = {}
    for label, (small_call, big_call) in urls.items():
        calls[f"{label} small"] = small_call
        calls[f"{label} big"] = big_call
    medians = medians_interleaved(calls)
    ratios = {label: medians[f"{label} big"] / medians[f"{label} small"] for label in urls}
    worst = max(ratios, key=ratios.get)
    small_count = figures["small_messages"]
    big_count = figures["big_messages"]
    measured = "; ".join(
        f"{label}: {ms(medians[f'{label} big'])} @{big_count // 1000}k vs {ms(medians[f'{label} small'])} "
        f"@{small_count // 1000}k"
        for label in urls
    )
    return Result(
        key=key,
        name=name,
        measured=f"median latency, {measured}",
        ratio=ratios[worst],
        target=LATENCY_TARGET,
        figures={
            **figures,
            "median_seconds": medians,
            "ratios": ratios,
            "worst": worst,
        },
    )


def bench_history_api(*, small: Tenant, big: Tenant, figures: dict) -> Result:
    url = reverse("api_message_list")
    clients = {"small": _api_client(small), "big": _api_client(big)}
    deep = {name: _api_deep_url(client, url, DEPTH) for name, client in clients.items()}
    pages = {
        "first page": (
            _getter(clients["small"], url, rows=50),
            _getter(clients["big"], url, rows=50),
        ),
        f"page {DEPTH} deep": (
            _getter(clients["small"], deep["small"], rows=50),
            _getter(clients["big"], deep["big"], rows=50),
        ),
    }
    return _flat(
        "1", "History API GET /api/v1/messages/", small=small, big=big, urls=pages, figures=figures
    )


def bench_history_page(*, small: Tenant, big: Tenant, figures: dict) -> Result:
    url = reverse("messaging:message_list")
    clients = {"small": _web_client(small), "big": _web_client(big)}
    deep = {name: _web_deep_url(client, url, DEPTH) for name, client in clients.items()}

    def filtered(tenant: Tenant) -> str:
        # A customer's number as people type it (0812...), and one status.
        local = "0" + tenant.numbers[7][2:]
        return f"{url}?{urlencode({'status': Message.Status.READ, 'number': local})}"

    pages = {
        "first page": (_getter(clients["small"], url), _getter(clients["big"], url)),
        f"page {DEPTH} deep": (
            _getter(clients["small"], deep["small"]),
            _getter(clients["big"], deep["big"]),
        ),
        "status+number": (
            _getter(clients["small"], filtered(small)),
            _getter(clients["big"], filtered(big)),
        ),
    }
    return _flat("2", "History page /history/", small=small, big=big, urls=pages, figures=figures)


def _export_url(*, days: int) -> str:
    last = timezone.localdate() - timedelta(days=1)  # the history ends at the last midnight
    first = last - timedelta(days=days - 1)
    return (
        f"{reverse('messaging:message_export')}?{urlencode({'date_from': first, 'date_to': last})}"
    )


def _export_consume(client: Client, url: str) -> tuple[int, int]:
    """Stream the export through; (rows, bytes). Nothing of it is kept."""
    response = expect_status(client.get(url), what=f"GET {url}")
    if not response.streaming:
        raise BenchError(f"GET {url}: the export is not streamed")
    chunks = 0
    size = 0
    for chunk in response.streaming_content:
        chunks += 1
        size += len(chunk)
    response.close()
    return chunks - 1, size  # one chunk per CSV line, the first is the header


def _export_peak(client: Client, url: str) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        rows, _size = _export_consume(client, url)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


def bench_export_memory(*, big: Tenant, big_days: int) -> Result:
    """The big project's export of 100k rows (100 days) against 5k rows (5 days): the same peak."""
    client = _web_client(big)
    small_url, big_url = _export_url(days=5), _export_url(days=100)
    _export_consume(client, small_url)  # warm-up: templates, imports, caches
    small_rows, small_peak = _export_peak(client, small_url)
    big_rows, big_peak = _export_peak(client, big_url)
    started = time.perf_counter()
    rate_rows, size = _export_consume(client, big_url)
    elapsed = time.perf_counter() - started
    rows_per_second = rate_rows / elapsed
    if not (99_000 <= big_rows <= 101_000 and 4_900 <= small_rows <= 5_100):
        raise BenchError(
            f"export sizes off: {big_rows} and {small_rows} rows (of {big_days} days of messages)"
        )
    ratio = big_peak / small_peak
    return Result(
        key="3",
        name="CSV export /history/export.csv",
        measured=(
            f"tracemalloc peak {big_peak / 1e6:.1f} MB @{big_rows} rows vs {small_peak / 1e6:.1f} MB "
            f"@{small_rows} rows; {rows_per_second:,.0f} rows/s untraced ({size / 1e6:.0f} MB)"
        ),
        ratio=ratio,
        target=EXPORT_MEMORY_TARGET,
        figures={
            "big_rows": big_rows,
            "small_rows": small_rows,
            "big_peak_bytes": big_peak,
            "small_peak_bytes": small_peak,
            "rows_per_second": rows_per_second,
            "export_bytes": size,
            "export_seconds": elapsed,
        },
    )
