"""Calls per second of the portal's Wappin client against a sandbox, on a throw-away database.

    python -m tests.messaging.wappin.bench_client --seconds 5 --threads 1 4
    python -m tests.messaging.wappin.bench_client --url http://127.0.0.1:9100   # a sandbox already running

Each call is the whole client path: token check, one HTTP POST over the pooled
keep-alive session, the body's status, and the call-log row written to the
database (SQLite here). The sandbox runs with callbacks off so only the client
is measured. Prints one line per thread count: calls/s, p50 and p99 latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.wappin_sandbox import SandboxProcess


def _admin(url: str, method: str, action: str, data) -> None:
    request = urllib.request.Request(
        f"{url}/_sandbox/{action}",
        data=json.dumps(data).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running sandbox (default: start one)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--endpoint", choices=["text", "hsm", "inquiry"], default="text")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="wappin-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wappin_portal.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LOG_LEVEL"] = "WARNING"
    process = None
    url = args.url
    if not url:
        process = SandboxProcess(workdir / "world.json", world={"clients": {}, "projects": {}})
        url = process.url
    os.environ["WAPPIN_BASE_URL"] = url

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from messaging.models import WappinCallLog
    from messaging.wappin import WappinClient
    from projects.models import Integration, Project
    from sandbox.portal.sandbox_world import sandbox_world_build
    from templates_app.models import Template, TemplateLanguage

    settings.WAPPIN_BASE_URL = url
    call_command("migrate", verbosity=0)
    project = Project.objects.create(name="Bench", client_id="0070", wappin_project_id="476")
    integration = Integration.objects.create(
        project=project,
        kind=Integration.Kind.NOTIFICATION,
        secret_key="bench-secret",
        ip_whitelist=[],
    )
    template = Template.objects.create(
        project=project, name="bench", status=Template.Status.APPROVED
    )
    TemplateLanguage.objects.create(template=template, language_code="id", body="Halo {{1}}")
    world = sandbox_world_build(integrations=[integration], with_demo_numbers=False)
    world["knobs"] = {"callbacks_enabled": False}
    _admin(url, "PUT", "world", world)
    first = WappinClient(integration)
    probe = first.send_text(recipient_number="6281327666166", text="warm-up").message_id

    def one_call(client: WappinClient, n: int) -> None:
        if args.endpoint == "text":
            client.send_text(recipient_number="6281327666166", text=f"bench {n}")
        elif args.endpoint == "hsm":
            client.send_hsm(
                recipient_number="6281327666166", template_name="bench", params={"1": str(n)}
            )
        else:
            client.inquiry(wappin_message_id=probe)

    try:
        for threads in args.threads:
            latencies: list[float] = []
            lock = threading.Lock()
            deadline = time.perf_counter() + args.seconds

            def worker(deadline=deadline, lock=lock, latencies=latencies) -> None:
                client = WappinClient(
                    Integration.objects.select_related("project").get(pk=integration.pk)
                )
                mine: list[float] = []
                n = 0
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    one_call(client, n)
                    mine.append(time.perf_counter() - started)
                    n += 1
                with lock:
                    latencies.extend(mine)
                connection.close()

            started = time.perf_counter()
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            elapsed = time.perf_counter() - started
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0
            print(  # noqa: T201 - a command-line report
                f"{args.endpoint:8s} threads={threads:2d} calls={len(latencies):6d} "
                f"calls/s={len(latencies) / elapsed:8.0f} p50={statistics.median(latencies) * 1000:6.2f} ms "
                f"p99={p99 * 1000:6.2f} ms call-log rows={WappinCallLog.objects.count()}"
            )
    finally:
        if process is not None:
            process.stop()


if __name__ == "__main__":
    main()
