"""A real Celery worker process for end-to-end tests.

The worker runs the project's own code against the suite's database (the
SQLite test file, or the PostgreSQL test database) and the configured broker:
the embedded SQLite broker by default, Redis under `make test-services`.
Tests that use it need committed data: `pytest.mark.django_db(transaction=True)`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

import pytest

from wappin_portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, settings, tmp_path):
    """Start `celery worker` for one test; tasks enqueued by the test process go to it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WAPPIN_BASE_URL": settings.WAPPIN_BASE_URL,
        "WAPPIN_SANDBOX_URL": settings.WAPPIN_SANDBOX_URL,
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
        # The worker backs off as in production (the in-process suite retries at once).
        "SEND_RETRY_BACKOFF_FACTOR": "1",
    }
    log_path = tmp_path / "worker.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed when the worker stops
    # Drop tasks a previous, interrupted run left on the broker.
    celery_app.control.purge()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wappin_portal", "worker", "--pool", "solo",
         "-Q", "celery,sending,blasts,callbacks,housekeeping",
         "--concurrency", "1", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            log.close()
            raise RuntimeError("The Celery worker did not start:\n" + log_path.read_text())
        time.sleep(0.2)
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = was_eager
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
