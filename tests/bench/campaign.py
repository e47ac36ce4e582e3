"""Campaign benchmarks (issue 14): blasts through real Celery workers and the sandbox at 100 ms.

    python -m tests.bench.campaign              the embedded default (SQLite, the SQLite broker)
    python -m tests.bench.campaign --services   PostgreSQL + Redis (`make bench-services`)

Each run makes its own database (a SQLite file, or a fresh PostgreSQL database),
starts the Wappin sandbox with `latency_ms=100` and real `celery worker`
processes (the Procfile's command), and measures in the same run:

- blast throughput: a blast of N contacts, cap 1,000, messages/s from `blast_start`
  until every message has Wappin's id, against a bare loop with the same number of
  concurrent keep-alive connections to the same sandbox, and one with 100;
- CPU per message: the workers' CPU time (user + system, /proc) over the blast / N;
- the transactional lane: template sends queued every 0.5 s during the blast,
  queued -> sent p95;
- the rate cap: a blast at cap 80 for ~60 s with 2 worker processes, the busiest
  1-second window at the sandbox and the mean rate / cap.

Callbacks are off in the sandbox here (they have their own benchmark): the figures
are the sending path's. Prints a table and writes var/bench-campaign.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
QUEUES = "celery,sending,blasts,callbacks,webhooks,housekeeping"
LATENCY_MS = 100


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- processes -------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    seen = set()
    while pids:
        current = pids.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        pids += [int(child) for child in children]
    return total


class Workers:
    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int, concurrency: int = 1, extra_env: dict | None = None) -> None:
        for n in range(count):
            log_path = self.logdir / f"worker-{len(self.processes)}.log"
            log = open(log_path, "w")  # noqa: SIM115 - closed when the process ends
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "wappin_portal",
                    "worker",
                    "-Q",
                    QUEUES,
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "INFO",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    f"bench{len(self.processes)}@%h",
                ],
                cwd=ROOT,
                env={**self.env, **(extra_env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.processes.append(process)
            deadline = time.monotonic() + 60
            while "ready" not in log_path.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {n} did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)

    def cpu(self) -> float:
        return sum(_cpu_seconds(process.pid) for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []


# -- the bare baseline -------------------------------------------------------------------


def bare_loop(*, sandbox_url: str, token: str, body: dict, count: int, connections: int) -> float:
    """Messages/s of `connections` threads, each on one keep-alive connection, sending `count` in all."""
    parts = urlsplit(sandbox_url)
    remaining = [count]
    lock = threading.Lock()
    payload = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def run() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while True:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
            connection.request("POST", "/v1/message/do-send-hsm", body=payload, headers=headers)
            answer = json.loads(connection.getresponse().read())
            if answer.get("status") != "200":
                raise RuntimeError(f"bare loop: {answer}")
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started)


# -- the run -----------------------------------------------------------------------------


def _environment(*, services: bool, workdir: Path, sandbox_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WAPPIN_BASE_URL": sandbox_url,
        "WAPPIN_SANDBOX_URL": sandbox_url,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # The production engine's values, not the test settings' quick ones.
        "SEND_CONCURRENCY": "128",
        "SEND_DISPATCH_IDLE_SECONDS": "2",
        "SEND_RETRY_BACKOFF_FACTOR": "1",
        "MEDIA_ROOT": str(workdir / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    if services:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/wappin_bench_campaign"
        env["CACHE_URL"] = "redis://127.0.0.1:6379/10"
        env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/11"
        env["SEND_RATE_REDIS_URL"] = "redis://127.0.0.1:6379/10"
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
        env["CACHE_URL"] = "dbcache://django_cache"
        env["CELERY_BROKER_URL"] = f"sqla+sqlite:///{workdir / 'broker.sqlite3'}"
    return env


def _postgres(action: str) -> None:
    sql = {
        "create": "CREATE DATABASE wappin_bench_campaign",
        "drop": "DROP DATABASE IF EXISTS wappin_bench_campaign WITH (FORCE)",
    }[action]
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--services", action="store_true", help="PostgreSQL + Redis instead of SQLite"
    )
    parser.add_argument(
        "--contacts", type=int, default=None, help="blast size (10,000; 5,000 embedded)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the blast")
    parser.add_argument("--skip-cap", action="store_true", help="skip the 60-second cap-80 run")
    args = parser.parse_args(argv)
    contacts = args.contacts or (10_000 if args.services else 5_000)

    VAR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="wappin-campaign-"))
    from tests.wappin_sandbox import SandboxProcess, WappinSandbox

    sandbox = SandboxProcess(workdir / "world.json")
    env = _environment(services=args.services, workdir=workdir, sandbox_url=sandbox.url)
    os.environ.update(
        {key: value for key, value in env.items() if key not in ("PYTHONUNBUFFERED",)}
    )
    if args.services:
        import redis

        _postgres("drop")
        _postgres("create")
        redis.Redis.from_url(env["CACHE_URL"]).flushdb()
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
    workers = Workers(env, workdir)
    results: dict = {
        "stack": "postgresql+redis" if args.services else "sqlite+embedded broker",
        "contacts": contacts,
        "worker_processes": args.workers,
        "latency_ms": LATENCY_MS,
    }
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        results.update(
            _run(
                args=args,
                contacts=contacts,
                sandbox=WappinSandbox(sandbox.url),
                sandbox_url=sandbox.url,
                workers=workers,
            )
        )
    finally:
        workers.stop()
        sandbox.stop()
        from django.db import connections

        connections.close_all()
        if args.services:
            _postgres("drop")
        shutil.rmtree(workdir, ignore_errors=True)
    name = "bench-campaign-services.json" if args.services else "bench-campaign.json"
    (VAR / name).write_text(json.dumps(results, indent=2))
    say("")
    for key, value in results.items():
        say(f"  {key}: {value}")
    say(f"\nFigures written to var/{name}.")
    return 0


def _tenant(*, contacts: int, cap: int, sandbox, slug: str):
    from messaging.models import Contact, ContactGroup
    from tests.bench import bench_data

    tenant = bench_data.tenant_create(
        slug=slug, client_id=f"77{len(slug)}{cap}", wappin_project_id=f"8{cap}"
    )
    tenant.integration.max_messages_per_second = cap
    tenant.integration.save(update_fields=["max_messages_per_second"])
    bench_data.contacts_create(tenant=tenant, count=contacts, first=cap * 100_000)
    group = ContactGroup.objects.create(project=tenant.project, name="everyone")
    through = Contact.groups.through
    through.objects.bulk_create(
        [
            through(contact_id=pk, contactgroup_id=group.pk)
            for pk in Contact.objects.filter(project=tenant.project).values_list("pk", flat=True)
        ],
        batch_size=2000,
    )
    sandbox.register(tenant.integration)
    return tenant, group


def _blast_run(*, tenant, group, contacts: int, transactional: bool = False) -> dict:
    from django.db.models import Q

    from messaging.blasts import services as blasts
    from messaging.models import Message
    from messaging.sending.services import message_send_hsm

    blast = blasts.blast_create(
        project=tenant.project,
        name="bench",
        template_name="order_update",
        group=group,
        params={"1": {"source": "name"}, "2": {"source": "fixed", "value": "INV-1"}},
        created_by=tenant.user,
    )
    started = time.perf_counter()
    blasts.blast_start(blast_id=blast.pk, actor=tenant.user)
    probes: list[int] = []
    next_probe = started + 1.0
    deadline = started + 900
    done = 0
    while time.perf_counter() < deadline:
        done = Message.objects.filter(blast=blast).exclude(wappin_message_id="").count()
        failed = Message.objects.filter(blast=blast, status="failed").count()
        if done + failed >= contacts:
            break
        if transactional and time.perf_counter() >= next_probe and done < contacts * 0.8:
            probes.append(
                message_send_hsm(
                    project=tenant.project,
                    phone_number=f"6281399{len(probes):06d}",
                    template_name="order_update",
                    params={"1": "Probe", "2": "INV-P"},
                    source=Message.Source.API_KEY,
                ).pk
            )
            next_probe += 0.5
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    figures = {
        "seconds": round(elapsed, 1),
        "with_wappin_id": done,
        "msgs_per_s": round(done / elapsed, 1),
    }
    if probes:
        deadline = time.perf_counter() + 60
        while Message.objects.filter(pk__in=probes).filter(Q(sent_at__isnull=True)).exists():
            if time.perf_counter() > deadline:
                break
            time.sleep(0.2)
        waits = sorted(
            (message.sent_at - message.created_at).total_seconds()
            for message in Message.objects.filter(pk__in=probes, sent_at__isnull=False)
        )
        if waits:
            figures["transactional_sends"] = len(probes)
            figures["transactional_p95_s"] = round(waits[max(0, int(len(waits) * 0.95) - 1)], 3)
            figures["transactional_max_s"] = round(waits[-1], 3)
    return figures


def _run(*, args, contacts: int, sandbox, sandbox_url: str, workers: Workers) -> dict:
    from messaging.wappin import WappinClient

    out: dict = {}
    sandbox.knobs(latency_ms=LATENCY_MS, callbacks_enabled=False)
    # 1. Blast throughput and CPU, cap 1,000, with transactional probes.
    tenant, group = _tenant(contacts=contacts, cap=1000, sandbox=sandbox, slug="blast")
    workers.start(
        args.workers,
        concurrency=2,
        extra_env={"SEND_DISPATCHERS_PER_INTEGRATION": str(args.workers)},
    )
    cpu_before = workers.cpu()
    blast = _blast_run(tenant=tenant, group=group, contacts=contacts, transactional=True)
    cpu = workers.cpu() - cpu_before
    out["blast"] = blast
    out["cpu_ms_per_message"] = round(cpu * 1000 / max(blast["with_wappin_id"], 1), 3)
    connections = args.workers * 128
    token = WappinClient(tenant.integration).token_get()
    body = {
        "client_id": tenant.project.client_id,
        "project_id": tenant.project.wappin_project_id,
        "type": "order_update",
        "recipient_number": "6281200000001",
        "language_code": "id",
        "params": {"1": "Budi", "2": "INV-1"},
    }
    bare_same = bare_loop(
        sandbox_url=sandbox_url,
        token=token,
        body=body,
        count=contacts,
        connections=min(connections, 256),
    )
    bare_100 = bare_loop(
        sandbox_url=sandbox_url, token=token, body=body, count=contacts, connections=100
    )
    out["bare_loop_same_connections"] = {
        "connections": min(connections, 256),
        "msgs_per_s": round(bare_same, 1),
    }
    out["bare_loop_100_connections"] = round(bare_100, 1)
    out["ratio_vs_bare_same"] = round(blast["msgs_per_s"] / bare_same, 2)
    out["ratio_vs_bare_100"] = round(blast["msgs_per_s"] / bare_100, 2)
    workers.stop()
    # 2. The cap: 80/s for ~60 s with 2 worker processes, counted at the sandbox.
    if not args.skip_cap:
        sandbox.reset()
        sandbox.knobs(latency_ms=LATENCY_MS, callbacks_enabled=False)
        capped, capped_group = _tenant(contacts=80 * 60, cap=80, sandbox=sandbox, slug="cap")
        workers.start(2, concurrency=2, extra_env={"SEND_DISPATCHERS_PER_INTEGRATION": "2"})
        _blast_run(tenant=capped, group=capped_group, contacts=80 * 60)
        times = sorted(
            float(message["created_at"])
            for message in sandbox.admin("GET", "messages", limit=100_000, endpoint="do-send-hsm")
        )
        busiest = 0
        first = 0
        for last, moment in enumerate(times):
            while moment - times[first] >= 1.0:
                first += 1
            busiest = max(busiest, last - first + 1)
        span = times[-1] - times[0] if len(times) > 1 else 1
        out["cap_80"] = {
            "messages": len(times),
            "busiest_1s_window": busiest,
            "mean_rate": round(len(times) / span, 1),
            "mean_over_cap": round(len(times) / span / 80, 3),
        }
        workers.stop()
    return out


if __name__ == "__main__":
    sys.exit(main())
