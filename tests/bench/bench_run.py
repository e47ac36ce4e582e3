"""Runs every benchmark on its own SQLite file and its own sandbox; prints the table, writes the JSON.

    python -m tests.bench            (what `make bench` runs)
    python -m tests.bench 5 7        (only these benchmarks, for a quick look)

The database is `var/bench.sqlite3` (migrated at the start, deleted at the end)
with `wappin_portal.settings.test`; the Wappin sandbox is a child process
started through `tests/wappin_sandbox.py`. Exit status 1 when a target fails.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
DATABASE = VAR / "bench.sqlite3"
RESULTS = VAR / "bench-results.json"

SMALL_MESSAGES = 2_000
BIG_MESSAGES = 200_000
OTHER_PROJECT_MESSAGES = 10_000
BIG_DAYS = 200
SMALL_DAYS = 20
SEND_CONTACTS = 50


def _database_files() -> list[Path]:
    return [
        DATABASE,
        DATABASE.with_name(DATABASE.name + "-wal"),
        DATABASE.with_name(DATABASE.name + "-shm"),
    ]


def _environment(*, sandbox_url: str) -> None:
    """Settings for this process only, before Django reads them."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "wappin_portal.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    os.environ["CACHE_URL"] = "locmemcache://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    # Celery reads this variable before its settings: no broker file is ever touched.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["WAPPIN_BASE_URL"] = sandbox_url
    os.environ["WAPPIN_SANDBOX_URL"] = sandbox_url
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["LOG_LEVEL"] = "WARNING"


def main(argv: list[str] | None = None) -> int:
    from tests.bench.bench_kit import say
    from tests.wappin_sandbox import SandboxProcess

    started = time.perf_counter()
    VAR.mkdir(exist_ok=True)
    for path in _database_files():
        path.unlink(missing_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="wappin-bench-"))
    sandbox = SandboxProcess(workdir / "world.json")
    try:
        _environment(sandbox_url=sandbox.url)
        chosen = set(sys.argv[1:] if argv is None else argv)
        return _run(sandbox_url=sandbox.url, started=started, chosen=chosen)
    finally:
        sandbox.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not have started; nothing to close then
            pass
        for path in _database_files():
            path.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)
        say(f"\n{time.perf_counter() - started:.0f} s in all; the bench database is deleted.")


def _run(*, sandbox_url: str, started: float, chosen: set[str]) -> int:
    import warnings

    import django

    # WhiteNoise warns that collectstatic never ran; the bench serves no static file.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    import logging

    # The memory:// broker has no host; kombu says so on every connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from tests.bench import bench_callbacks, bench_data, bench_history, bench_imports, bench_sending
    from tests.bench.bench_kit import Result, results_write, say, table
    from tests.wappin_sandbox import WappinSandbox

    settings.WAPPIN_BASE_URL = sandbox_url
    say(f"Wappin Portal benchmarks: SQLite {DATABASE.relative_to(ROOT)}, sandbox {sandbox_url}")
    call_command("migrate", verbosity=0)

    step = time.perf_counter()
    # History ends at the last local midnight: each whole day then holds the same number of
    # messages, so the export's date ranges give round row counts.
    now = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    history = not chosen or chosen & {"1", "2", "3"}
    small = bench_data.tenant_create(slug="small", client_id="9001", wappin_project_id="901")
    big = bench_data.tenant_create(slug="big", client_id="9002", wappin_project_id="902")
    others = [
        bench_data.tenant_create(slug=f"other{n}", client_id=f"910{n}", wappin_project_id=f"91{n}")
        for n in range(2)
    ]
    hooks = bench_data.tenant_create(slug="callbacks", client_id="9003", wappin_project_id="903")
    send = bench_data.tenant_create(slug="send", client_id="9004", wappin_project_id="904")
    if history:
        bench_data.messages_fill(
            tenant=small, count=SMALL_MESSAGES, days=SMALL_DAYS, newest=now, seed=1
        )
        bench_data.messages_fill(tenant=big, count=BIG_MESSAGES, days=BIG_DAYS, newest=now, seed=2)
        for n, other in enumerate(others):
            bench_data.messages_fill(
                tenant=other, count=OTHER_PROJECT_MESSAGES, days=BIG_DAYS, newest=now, seed=3 + n
            )
        say(
            f"Data: {BIG_MESSAGES:,} messages in the big project, {SMALL_MESSAGES:,} in the small one, "
            f"{len(others) * OTHER_PROJECT_MESSAGES:,} in others ({time.perf_counter() - step:.0f} s)"
        )
    bench_data.contacts_create(tenant=send, count=SEND_CONTACTS, first=500_000, in_window=True)
    WappinSandbox(sandbox_url).register(send.integration)
    imports = [
        bench_data.tenant_create(
            slug=f"imports{n}", client_id=f"900{5 + n}", wappin_project_id=f"90{5 + n}"
        )
        for n in range(2)
    ]

    sizes = {"small_messages": SMALL_MESSAGES, "big_messages": BIG_MESSAGES}
    benchmarks: list[tuple[str, str, Callable[[], Result | list[Result]]]] = [
        (
            "1",
            "History API",
            lambda: bench_history.bench_history_api(small=small, big=big, figures=sizes),
        ),
        (
            "2",
            "History page",
            lambda: bench_history.bench_history_page(small=small, big=big, figures=sizes),
        ),
        ("3", "CSV export", lambda: bench_history.bench_export_memory(big=big, big_days=BIG_DAYS)),
        ("4", "Callback ingestion", lambda: bench_callbacks.bench_callbacks(tenant=hooks)),
        (
            "6",
            "Sandbox headroom",
            lambda: bench_sending.bench_sandbox_headroom(tenant=send, sandbox_url=sandbox_url),
        ),
        ("7", "Delivery", lambda: bench_sending.bench_delivery(tenant=send)),
        (
            "8",
            "Contact import",
            lambda: bench_imports.bench_import(
                project=imports[0].project, memory_project=imports[1].project
            ),
        ),
        # Last: it switches Celery to a broker nobody reads (and back).
        ("5", "Send accept", lambda: bench_sending.bench_send_accept(tenant=send)),
    ]
    results: list[Result] = []
    for key, name, run in benchmarks:
        if chosen and key not in chosen:
            continue
        step = time.perf_counter()
        try:
            outcome = run()
        except Exception as exc:
            traceback.print_exc()
            outcome = Result(
                key=key, name=name, measured=f"ERROR: {exc}"[:300], ratio=math.inf, target=0
            )
        produced = outcome if isinstance(outcome, list) else [outcome]
        results += produced
        for result in produced:
            say(
                f"  {result.key:3s} {result.name}: ratio {result.ratio:.2f} ({time.perf_counter() - step:.1f} s)"
            )

    results.sort(
        key=lambda result: (int("".join(ch for ch in result.key if ch.isdigit())), result.key)
    )
    say("")
    say(table(results))
    results_write(
        RESULTS,
        results=results,
        extra={
            "finished_at": datetime.now(UTC).isoformat(),
            "seconds": round(time.perf_counter() - started, 1),
            "python": sys.version.split()[0],
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "database": "sqlite",
        },
    )
    failed = [result.key for result in results if not result.passed]
    say(f"\nFigures written to {RESULTS.relative_to(ROOT)}.")
    say(f"FAILED: {', '.join(failed)}" if failed else "All targets met.")
    return 1 if failed else 0
