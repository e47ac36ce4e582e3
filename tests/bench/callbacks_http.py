"""Status callbacks on gunicorn (issue 14): callbacks/s against a bare Django view, same server, same run.

    python -m tests.bench.callbacks_http              PostgreSQL + Redis (`make bench-services`)

A fresh PostgreSQL database, the production settings, gunicorn with 2 sync workers
(the production command), 20 concurrent senders on keep-alive connections posting
Wappin's status callbacks ("delivered" then "read" for each of N sent messages);
then the same senders posting the same bodies to a bare view of the same gunicorn
that does one INSERT (the ceiling of any view that stores what it is sent). Also:
p50/p99 latency of each, and how long one Celery worker (the production command,
concurrency 2) takes to apply them all. Prints the figures and writes
var/bench-callbacks-http.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench.campaign import ROOT, VAR, Workers, _cpu_seconds, say

DATABASE = "wappin_bench_callbacks"
TOKEN = "bench-callback-token-0123456789abcdef"
SENDERS = 20
WEB_WORKERS = 2


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings_callbacks",
        "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS0zMmJ5dGVzISE=",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CACHE_URL": "redis://127.0.0.1:6379/12",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "WAPPIN_BASE_URL": "http://127.0.0.1:9",  # nothing here calls Wappin
        "PORTAL_BASE_URL": "http://127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(workdir / "media"),
        "PYTHONUNBUFFERED": "1",
    }


def _post_all(
    *, port: int, path: str, bodies: list[bytes], headers: dict
) -> tuple[float, list[float]]:
    """(seconds, latencies) of SENDERS threads posting `bodies`, each on one keep-alive connection."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            with lock:
                if not queue or failures:
                    break
                body = queue.pop()
            started = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200 or json.loads(answer).get("status") != "000":
                failures.append(f"{response.status} {answer[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{path}: {len(failures)} failed, e.g. {failures[0]}")
    return seconds, latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--messages", type=int, default=3000, help="sent messages (2 callbacks each)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (gthread)"
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="intake only: nothing applies them"
    )
    args = parser.parse_args(argv)
    VAR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="wappin-callbacks-"))
    env = _environment(workdir)
    os.environ.update(env)
    _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _psql(f"CREATE DATABASE {DATABASE}")
    import redis

    for url in (env["CACHE_URL"], env["CELERY_BROKER_URL"]):
        redis.Redis.from_url(url).flushdb()
    port = _free_port()
    web = None
    workers = Workers(env, workdir)
    results: dict = {
        "stack": "postgresql+redis, production settings",
        "gunicorn_workers": WEB_WORKERS,
        "gunicorn_threads": args.threads,
        "senders": SENDERS,
    }
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from callbacks.models import CallbackEvent
        from messaging.models import Message
        from tests.bench.bench_data import status_callback_body, tenant_create
        from tests.bench.urls_callbacks import BARE_TABLE

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, body text)")
        tenant = tenant_create(slug="cb", client_id="0009", wappin_project_id="16")
        integration = tenant.integration
        credential = integration.credential  # the Wappin client's token, shared
        credential.access_token = TOKEN
        credential.save()
        now = timezone.now()
        ids = [f"cbh{n:09x}" for n in range(args.messages)]
        Message.objects.bulk_create(
            [
                Message(
                    project=tenant.project,
                    integration=integration,
                    kind=Message.Kind.HSM,
                    status=Message.Status.SENT,
                    phone_number=f"62813{n:08d}",
                    template_name="order_update",
                    language_code="id",
                    params={"1": "Budi", "2": f"INV-{n}"},
                    wappin_message_id=wappin_id,
                    send_attempts=1,
                    sent_at=now,
                )
                for n, wappin_id in enumerate(ids)
            ],
            batch_size=2000,
        )
        bodies = [
            status_callback_body(project=tenant.project, message_id=i, status=s, when=now)
            for s in ("delivered", "read")
            for i in ids
        ]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        connection.close()

        web_log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - closed at the end
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "wappin_portal.wsgi",
                "--workers",
                str(WEB_WORKERS),
                "--threads",
                str(args.threads),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if web.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((workdir / "gunicorn.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        if not args.no_worker:
            workers.start(1, concurrency=2)
        warm = bodies[:200]
        _post_all(port=port, path="/bench/bare-insert/", bodies=warm, headers=headers)
        bare_cpu = _cpu_seconds(web.pid)
        bare_seconds, bare_latencies = _post_all(
            port=port, path="/bench/bare-insert/", bodies=bodies, headers=headers
        )
        say(f"bare view: {len(bodies) / bare_seconds:,.0f}/s")
        bare_cpu = _cpu_seconds(web.pid) - bare_cpu
        web_cpu, worker_cpu = _cpu_seconds(web.pid), workers.cpu()
        started = time.monotonic()
        seconds, latencies = _post_all(
            port=port, path=integration.callback_path, bodies=bodies, headers=headers
        )
        say(f"callbacks: {len(bodies) / seconds:,.0f}/s")
        deadline = time.monotonic() + 600
        while (
            not args.no_worker
            and CallbackEvent.objects.filter(state=CallbackEvent.State.PENDING).exists()
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the callbacks were not all applied in 10 minutes")
            time.sleep(0.2)
        applied_seconds = time.monotonic() - started
        web_cpu, worker_cpu = _cpu_seconds(web.pid) - web_cpu, workers.cpu() - worker_cpu
        read = Message.objects.filter(wappin_message_id__in=ids, status=Message.Status.READ).count()
        if read != len(ids) and not args.no_worker:
            raise RuntimeError(f"{read} of {len(ids)} messages read after their callbacks")
        connection.close()
        results.update(
            {
                "callbacks": len(bodies),
                "callbacks_per_second": round(len(bodies) / seconds, 1),
                "callback_p50_ms": round(statistics.median(latencies) * 1000, 1),
                "callback_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
                "bare_insert_per_second": round(len(bodies) / bare_seconds, 1),
                "bare_p99_ms": round(_percentile(bare_latencies, 0.99) * 1000, 1),
                "ratio_to_bare": round(bare_seconds / seconds, 2),
                "all_applied_seconds_from_first_post": round(applied_seconds, 1),
                "applied_per_second": round(len(bodies) / applied_seconds, 1),
                "web_cpu_ms_per_callback": round(web_cpu / len(bodies) * 1000, 2),
                "web_cpu_ms_per_bare_insert": round(bare_cpu / len(bodies) * 1000, 2),
                "worker_cpu_ms_per_callback": round(worker_cpu / len(bodies) * 1000, 2),
            }
        )
    finally:
        workers.stop()
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)
    (VAR / "bench-callbacks-http.json").write_text(json.dumps(results, indent=2))
    say("")
    for key, value in results.items():
        say(f"  {key}: {value}")
    say("\nFigures written to var/bench-callbacks-http.json.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
