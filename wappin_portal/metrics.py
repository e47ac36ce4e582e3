"""Prometheus metrics: the portal's counters, the scrape-time gauges' hook, and `/metrics`.

Counters and histograms live in prometheus_client's default registry; they count
what one process did (Wappin calls from `messaging.wappin.client._request`,
callbacks at the intake, token refreshes). Gauges about the database (messages by
status, blast recipients waiting, the oldest queued message) are computed when
Prometheus scrapes, by the collectors apps register with `scrape_collector_register`
(`messaging.metrics`): nothing to keep in step, and every web process answers the same.

Several processes (gunicorn's workers, Celery's prefork children) each count their
own: with `PROMETHEUS_MULTIPROC_DIR` set, prometheus_client writes every process's
values to files in that directory and `/metrics` sums them (its "multiprocess mode";
the directory is emptied when gunicorn or the Celery worker starts:
`wappin_portal.gunicorn`, `worker_metrics_start`). A Celery worker answers its own
counters on `CELERY_WORKER_METRICS_PORT` when that is set.

`/metrics` wants `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time);
without a configured token it is a 404, as if it did not exist.
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import Metric

logger = logging.getLogger(__name__)

# Every metric has labels, so no value file is made before a process first counts something.
WAPPIN_CALLS = Counter(
    "wappin_portal_wappin_calls_total",
    "Calls to Wappin by endpoint and the status of Wappin's answer "
    "(its body's status; timeout, unreachable or http_<code> when there is none).",
    ["endpoint", "status"],
)
WAPPIN_CALL_SECONDS = Histogram(
    "wappin_portal_wappin_call_seconds",
    "Time of a call to Wappin, by endpoint.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0),
)
TOKEN_REFRESHES = Counter(
    "wappin_portal_token_refreshes_total",
    "Token requests to Wappin (/v1/token/get), by outcome (ok or failed).",
    ["outcome"],
)
CALLBACKS = Counter(
    "wappin_portal_callbacks_total",
    "Callbacks from Wappin at the intake: accepted, duplicate (a retry) or refused, with the reason.",
    ["outcome", "reason"],
)
WEBHOOK_ATTEMPTS = Counter(
    "wappin_portal_webhook_attempts_total",
    "Webhook delivery attempts by outcome: delivered, retrying (a failure with time left) "
    "or failed (the last one in the retry window).",
    ["outcome"],
)

# Wappin's body status is a short code ("200", "401", "601"...), or ours for a call without
# one; anything else a server answers becomes "other" (a label per odd answer would not do).
_STATUS_LABEL = re.compile(r"\d{1,4}|http_\d{3}|timeout|unreachable|no_status")


def wappin_call_observe(*, endpoint: str, status: str, seconds: float) -> None:
    """Count one call to Wappin (`status`: Wappin's body status, or what went wrong)."""
    if not _STATUS_LABEL.fullmatch(status):
        status = "other"
    WAPPIN_CALLS.labels(endpoint=endpoint, status=status).inc()
    WAPPIN_CALL_SECONDS.labels(endpoint=endpoint).observe(seconds)


def token_refresh_count(*, ok: bool) -> None:
    TOKEN_REFRESHES.labels(outcome="ok" if ok else "failed").inc()


def callback_count(*, outcome: str, reason: str = "") -> None:
    CALLBACKS.labels(outcome=outcome, reason=reason).inc()


# --- scrape-time gauges -------------------------------------------------------------------

_scrape_collectors: list[Callable[[], Iterable[Metric]]] = []


def scrape_collector_register(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function that yields metrics computed at each scrape (an app's `ready()` calls this)."""
    if collect not in _scrape_collectors:
        _scrape_collectors.append(collect)


class _ScrapeCollector:
    def collect(self) -> Iterable[Metric]:
        for collect in _scrape_collectors:
            try:
                yield from collect()
            except Exception:  # one failing gauge must not hide the others (nor the counters)
                logger.exception("metrics: %s failed", getattr(collect, "__qualname__", collect))


def counters_registry() -> CollectorRegistry:
    """This process's counters, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def multiprocess_dir_reset() -> None:
    """Make PROMETHEUS_MULTIPROC_DIR and empty it of an earlier run's files (at start-up only:
    prometheus_client's documentation asks for a wiped directory before the processes start)."""
    directory = multiprocess_dir()
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)


def metrics_text() -> bytes:
    """The exposition: the counters (summed over processes), then the scrape-time gauges."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_ScrapeCollector())
    return prometheus_client.generate_latest(
        counters_registry()
    ) + prometheus_client.generate_latest(gauges)


def metrics_token_valid(authorization: str) -> bool:
    """Whether `authorization` is `Bearer <METRICS_TOKEN>`; always false without a token set."""
    expected = settings.METRICS_TOKEN
    scheme, _, given = authorization.strip().partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not metrics_token_valid(request.headers.get("Authorization", "")):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=prometheus_client.CONTENT_TYPE_LATEST)


def worker_metrics_start(*, port: int, address: str) -> None:
    """A Celery worker's own `/metrics` on `address:port` (the counters of its pool's processes)."""
    prometheus_client.start_http_server(port, addr=address, registry=counters_registry())
    logger.info("metrics: the worker's counters on http://%s:%s/metrics", address, port)
