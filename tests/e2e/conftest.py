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


class CeleryWorkers:
    """Starts `celery worker` processes for one test and stops whatever is left of them after it.

    Every worker runs the project's code against the suite's database and broker,
    with `env` added to its environment (`SEND_DISPATCHERS_PER_INTEGRATION`, ...).
    """

    def __init__(self, settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []
        self._logs: list = []

    def _env(self) -> dict[str, str]:
        # Read when a worker starts: fixtures such as `wappin_sandbox` set these meanwhile.
        settings = self.settings
        return {
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

    def log_path(self, worker: subprocess.Popen) -> Path:
        return self.log_dir / f"worker-{self.processes.index(worker)}.log"

    def log(self, worker: subprocess.Popen) -> str:
        return self.log_path(worker).read_text()

    def start(self, count: int = 1, *, env: dict[str, str] | None = None) -> list[subprocess.Popen]:
        """Start `count` workers (solo pool, one task at a time each) and wait until all are ready."""
        started = []
        for _ in range(count):
            log_path = self.log_dir / f"worker-{len(self.processes)}.log"
            log = open(log_path, "w")  # noqa: SIM115 - closed when the workers stop
            self._logs.append(log)
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "wappin_portal",
                    "worker",
                    "--pool",
                    "solo",
                    "-Q",
                    "celery,sending,blasts,callbacks,webhooks,housekeeping",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "INFO",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    f"e2e{len(self.processes)}@%h",
                ],
                cwd=ROOT,
                env={**self._env(), **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.processes.append(worker)
            started.append(worker)
        deadline = time.monotonic() + 60
        for worker in started:
            while "ready." not in self.log(worker):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("The Celery worker did not start:\n" + self.log(worker))
                time.sleep(0.2)
        return started

    def stop(self) -> None:
        for worker in self.processes:
            if worker.poll() is None:
                worker.terminate()
        for worker in self.processes:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=15)
        for log in self._logs:
            log.close()


@pytest.fixture
def celery_workers(transactional_db, settings, tmp_path):
    """Start worker processes with `celery_workers.start(n, env={...})`; tasks enqueued by the
    test process go to them. All are stopped after the test."""
    workers = CeleryWorkers(settings, tmp_path)
    # Drop tasks a previous, interrupted run left on the broker.
    celery_app.control.purge()
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield workers
    finally:
        celery_app.conf.task_always_eager = was_eager
        workers.stop()


@pytest.fixture
def celery_worker_process(celery_workers):
    """One `celery worker` process for the test."""
    (worker,) = celery_workers.start()
    return worker


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
