"""Readiness: can this process serve? Database, broker, cache reachable and migrations applied.

`/readyz` answers from `readiness_failures()`. Every check runs in a small
thread pool under one deadline, so a database or broker that hangs (a dropped
packet, not a refused connection) still gets an answer in time: a check that
has not finished by the deadline counts as failed. The result is kept for
`READINESS_CACHE_SECONDS` per process, so a load balancer polling every web
process often costs one round of checks every few seconds.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kombu import Connection

READINESS_DEADLINE_SECONDS = 1.5
READINESS_CACHE_SECONDS = 5.0
BROKER_TIMEOUT_SECONDS = 1.0

# A few threads: a check stuck past its deadline holds one until its own timeout ends it.
_executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")
_lock = threading.Lock()
_cached: tuple[float, list[str]] | None = None


def _in_thread(check: Callable[[], bool]) -> Callable[[], bool]:
    """Run a database-using check in a pool thread, closing that thread's connection after."""

    def run() -> bool:
        try:
            return check()
        finally:
            connection.close()

    return run


def _database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _migrations_ok() -> bool:
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def _broker_ok() -> bool:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    return True


def _cache_ok() -> bool:
    key = "readyz:" + secrets.token_hex(8)
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        return cache.get(key) == value
    finally:
        cache.delete(key)


CHECKS: dict[str, Callable[[], bool]] = {
    "database": _in_thread(_database_ok),
    "migrations": _in_thread(_migrations_ok),
    "broker": _broker_ok,
    "cache": _cache_ok,
}


def _run_checks() -> list[str]:
    deadline = time.monotonic() + READINESS_DEADLINE_SECONDS
    futures = {name: _executor.submit(check) for name, check in CHECKS.items()}
    failed = []
    for name, future in futures.items():
        try:
            ok = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            ok = False
        except Exception:  # any error means "not ready"; its text is never shown
            ok = False
        if not ok:
            failed.append(name)
    # Migrations cannot be known without the database: name the cause only.
    if "database" in failed and "migrations" in failed:
        failed.remove("migrations")
    return failed


def readiness_failures(*, use_cache: bool = True) -> list[str]:
    """The names of the components that failed (empty when ready), at most a few seconds old."""
    global _cached
    with _lock:
        now = time.monotonic()
        if use_cache and _cached is not None and now - _cached[0] < READINESS_CACHE_SECONDS:
            return list(_cached[1])
        failed = _run_checks()
        _cached = (time.monotonic(), failed)
        return list(failed)


def readiness_cache_clear() -> None:
    global _cached
    with _lock:
        _cached = None
