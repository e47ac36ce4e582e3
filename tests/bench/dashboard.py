"""The dashboard on PostgreSQL with millions of messages (issue 12): its page against the old scan.

    python -m tests.bench.dashboard [--messages 5000000]     (`make bench-services`)

A fresh PostgreSQL database migrated with the test settings, one project whose N messages
(default 5 million) spread over 120 days, 8 templates and the statuses a busy portal has,
written by one INSERT … SELECT (the triggers count them as they go), then squashed. Figures,
each the median of interleaved samples:

- the whole dashboard page (30 days, per template, daily chart), through Django's client;
- beside it, the same figures read the old way, scanning the messages (the 30-day aggregate
  and the 14-day chart: 465 ms with 3 M messages when the issue was filed), and a bare page
  (/healthz) as the floor of any request;
- what the triggers cost the writes: a bulk INSERT of 100,000 messages and an UPDATE of their
  status, with the triggers and with them disabled.

Target: the page under 50 ms. Prints the figures and writes var/bench-dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATABASE = "wappin_bench_dashboard"
ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
TARGET_MS = 50.0


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def _setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "wappin_portal.settings.test"
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    import django

    django.setup()
    from django.conf import settings

    # The test client's host; not setup_test_environment(), which slows template rendering.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _fill(project_id: int, template_ids: list[int], count: int, *, first_id: int = 0) -> None:
    """`count` messages of the project over the last 120 days: 85 % outgoing, 15 % incoming."""
    from django.db import connection

    templates = "ARRAY[" + ",".join(str(pk) for pk in template_ids) + "]::bigint[]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO messaging_message (
                project_id, direction, kind, status, phone_number, template_id, template_name,
                language_code, params, header_param, button_url, reply_payloads, text, media,
                media_type, caption, wappin_message_id, failure_code, failure_reason, source,
                send_attempts, request_id, created_at, updated_at)
            SELECT %s,
                CASE WHEN g %% 100 < 15 THEN 'in' ELSE 'out' END,
                CASE WHEN g %% 100 < 15 THEN 'text' WHEN g %% 7 = 0 THEN 'text' ELSE 'hsm' END,
                CASE WHEN g %% 100 < 15 THEN 'received'
                     WHEN g %% 100 < 55 THEN 'read' WHEN g %% 100 < 75 THEN 'delivered'
                     WHEN g %% 100 < 87 THEN 'sent' WHEN g %% 100 < 93 THEN 'failed'
                     WHEN g %% 100 < 96 THEN 'cancelled' ELSE 'queued' END,
                '62812' || lpad((g %% 200000)::text, 8, '0'),
                CASE WHEN g %% 100 >= 15 AND g %% 7 <> 0 THEN ({templates})[1 + g %% 8] END,
                '', 'id', '{{}}'::jsonb, '', '', '{{}}'::jsonb, 'Halo', '', '', '', '', '', '',
                'api_key', 1, '',
                now() - (g::float / %s * interval '120 days'),
                now()
            FROM generate_series(%s, %s) AS g
            """,  # noqa: S608 - the only value spliced in is the list of integer ids
            [project_id, count + first_id, first_id + 1, first_id + count],
        )


def _median_ms(call, *, samples: int = 21, warmup: int = 3) -> float:
    import statistics

    for _ in range(warmup):
        call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _old_scan(project) -> None:
    """The figures as the dashboard read them before the counts: two scans of the messages."""
    from datetime import datetime, timedelta
    from datetime import time as day_start

    from django.db.models import Count, Q
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from messaging.models import Message

    since = timezone.now() - timedelta(days=30)
    out = Q(direction="out") & ~Q(status="cancelled")
    Message.objects.filter(project=project, created_at__gte=since).aggregate(
        outgoing=Count("id", filter=out),
        delivered=Count("id", filter=out & Q(status__in=["delivered", "read"])),
        read=Count("id", filter=out & Q(status="read")),
        failed=Count("id", filter=out & Q(status="failed")),
        incoming=Count("id", filter=Q(direction="in")),
    )
    first = timezone.localdate() - timedelta(days=13)
    chart_since = datetime.combine(first, day_start.min, tzinfo=timezone.get_current_timezone())
    list(
        Message.objects.filter(project=project, direction="out", created_at__gte=chart_since)
        .exclude(status="cancelled")
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "status")
        .annotate(total=Count("id"))
        .order_by()
    )


def _write_cost(project_id: int, template_ids: list[int]) -> dict[str, float]:
    """Seconds to bulk-insert and re-status 100,000 messages, with and without the triggers."""
    from django.db import connection, transaction

    figures = {}
    for label, enabled in (("with_triggers", True), ("without_triggers", False)):
        with transaction.atomic(), connection.cursor() as cursor:
            if not enabled:
                cursor.execute("ALTER TABLE messaging_message DISABLE TRIGGER USER")
            started = time.perf_counter()
            _fill(project_id, template_ids, 100_000, first_id=10_000_000)
            inserted = time.perf_counter()
            cursor.execute(
                "UPDATE messaging_message SET status = 'read' "
                "WHERE project_id = %s AND status = 'sent'",
                [project_id],
            )
            updated = time.perf_counter()
            transaction.set_rollback(True)
        figures[f"insert_100k_{label}_s"] = round(inserted - started, 3)
        figures[f"update_{label}_s"] = round(updated - inserted, 3)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5_000_000)
    args = parser.parse_args()

    _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    _psql(f"CREATE DATABASE {DATABASE}")
    _setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from messaging.dashboard.services import message_counts_squash
    from messaging.models import MessageDailyCount
    from tests import factories

    call_command("migrate", verbosity=0)
    project = factories.ProjectFactory()
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role="admin")
    template_ids = [factories.TemplateFactory(project=project).pk for _ in range(8)]

    say(f"Writing {args.messages:,} messages (one INSERT … SELECT, counted by the triggers)…")
    started = time.perf_counter()
    _fill(project.pk, template_ids, args.messages)
    fill_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE messaging_message")
        cursor.execute("VACUUM ANALYZE messaging_messagedailycount")
    started = time.perf_counter()
    message_counts_squash(max_batches=10_000)
    squash_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE messaging_messagedailycount")
    count_rows = MessageDailyCount.objects.count()
    say(
        f"  written in {fill_seconds:.1f} s; squashed in {squash_seconds:.1f} s; {count_rows:,} count rows"
    )

    client = Client()
    client.force_login(user)

    def page() -> None:
        response = client.get("/dashboard/")
        assert response.status_code == 200, response.status_code

    def bare() -> None:
        client.get("/healthz")

    page_ms = _median_ms(page)
    old_ms = _median_ms(lambda: _old_scan(project), samples=7, warmup=1)
    bare_ms = _median_ms(bare)
    writes = _write_cost(project.pk, template_ids)
    figures = {
        "messages": args.messages,
        "count_rows": count_rows,
        "dashboard_page_ms": round(page_ms, 2),
        "old_scan_queries_ms": round(old_ms, 2),
        "bare_page_ms": round(bare_ms, 2),
        "target_ms": TARGET_MS,
        "passed": page_ms <= TARGET_MS,
        **writes,
    }
    say(
        f"  dashboard page (30 days, per template, chart): {page_ms:.1f} ms (target {TARGET_MS:.0f} ms)"
    )
    say(f"  the old scan of the messages, queries alone:    {old_ms:.1f} ms")
    say(f"  a bare page (/healthz):                          {bare_ms:.1f} ms")
    say(
        "  100k-message INSERT: {:.2f} s with the triggers, {:.2f} s without; "
        "status UPDATE: {:.2f} s / {:.2f} s".format(
            writes["insert_100k_with_triggers_s"],
            writes["insert_100k_without_triggers_s"],
            writes["update_with_triggers_s"],
            writes["update_without_triggers_s"],
        )
    )
    VAR.mkdir(exist_ok=True)
    (VAR / "bench-dashboard.json").write_text(json.dumps(figures, indent=2))
    connection.close()
    _psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    return 0 if figures["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
