"""Benchmark 8: contact import, the background job against a bare pipeline in the same run.

8a  rows/s of the import (`contact_import_run`, the worker's whole job: both passes over the
    file, normalising, upserts, memberships, refusals, counters) for 100,000 rows of which 5%
    are invalid, against a bare pipeline over the same file: the csv module, phonenumbers
    (parse, is_valid, format) per number, and COPY into a scratch table on PostgreSQL
    (executemany INSERT on SQLite). Target >= 0.5x.
8b  peak memory (VmHWM, the resident set's high-water mark) of a worker process that imports
    1,000,000 rows: a child process that sets Django up and runs the same task body.
    Target <= 300 MB.

    python -m tests.bench 8                   (SQLite, with the other benchmarks' set-up)
    DATABASE_URL=postgres://... python -m tests.bench.bench_imports   (this one alone, any database)
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_kit import BenchError, Result, say

SPEED_ROWS = 100_000
MEMORY_ROWS = 1_000_000
INVALID_SHARE = 0.05
SPEED_TARGET = 0.5
MEMORY_TARGET_MB = 300
GROUPS = ("VIP", "Jakarta", "Bandung", "Surabaya", "Newsletter")


def csv_write(path: Path, *, rows: int, seed: int, first: int = 0) -> int:
    """A contacts file like a marketer's: name, phone written several ways, 0-2 groups; 5% bad numbers."""
    chooser = random.Random(seed)  # noqa: S311 - test data
    invalid = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "phone", "group"])
        for n in range(first, first + rows):
            if chooser.random() < INVALID_SHARE:
                phone = chooser.choice(["12345", "08abc1234", "", "+999 123"])
                invalid += 1
            else:
                local = f"812{n:08d}"
                phone = chooser.choice(
                    [f"0{local}", f"+62 {local[:3]}-{local[3:7]}-{local[7:]}", f"62{local}"]
                )
            groups = "; ".join(chooser.sample(GROUPS, chooser.randint(0, 2)))
            writer.writerow([f"Contact {n}", phone, groups])
    return invalid


# --- the bare pipeline --------------------------------------------------------------------


def _bare_rows(path: Path):
    import phonenumbers

    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for name, phone, _groups in reader:
            try:
                number = phonenumbers.parse(phone, "ID")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                yield (
                    name,
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:],
                )


def bare_pipeline(path: Path) -> float:
    """Seconds to read the file, normalise each number and bulk-load the result into a scratch table."""
    from django.db import connection

    import phonenumbers

    phonenumbers.parse("0812 3456 7001", "ID")  # its metadata is loaded on first use: not timed
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_import_scratch")
        cursor.execute("CREATE TABLE bench_import_scratch (name varchar(120), phone varchar(20))")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bench_import_scratch (name, phone) FROM STDIN") as copy:
                for row in _bare_rows(path):
                    copy.write_row(row)
        else:
            cursor.executemany(
                "INSERT INTO bench_import_scratch (name, phone) VALUES (%s, %s)", _bare_rows(path)
            )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_import_scratch")
    return seconds


# --- the portal's import --------------------------------------------------------------------


def _import_create(*, project, path: Path):
    """A queued import of `path`, its file stored as the web request stores it (no task enqueued:
    the bench runs the task's body itself, timed)."""
    from django.core.files import File

    from messaging.models import ContactImport

    contact_import = ContactImport(project=project, original_filename=path.name)
    with path.open("rb") as handle:
        contact_import.file.save(path.name, File(handle), save=True)
    return contact_import


def _worker_peak(import_id: int) -> dict:
    """Run the import in a child process (a worker) and return its memory figures."""
    from django.conf import settings

    completed = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "tests.bench.bench_imports", "--worker", str(import_id)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "BENCH_MEDIA_ROOT": str(settings.MEDIA_ROOT)},
    )
    if completed.returncode != 0:
        raise BenchError(
            f"import worker failed: {completed.stdout[-500:]} {completed.stderr[-1500:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_main(import_id: int) -> int:
    """The child: Django as a Celery worker has it, then the task's body on one import."""
    import django

    django.setup()
    from django.conf import settings

    from messaging.contacts import import_tasks  # noqa: F401 - what a worker imports
    from messaging.contacts.imports import contact_import_run

    if os.environ.get("BENCH_MEDIA_ROOT"):  # where the parent stored the file
        settings.MEDIA_ROOT = os.environ["BENCH_MEDIA_ROOT"]
    baseline = _rss_mb("VmRSS")
    started = time.perf_counter()
    done = contact_import_run(import_id=import_id)
    seconds = time.perf_counter() - started
    figures = {
        "status": done.status,
        "failure_reason": done.failure_reason,
        "rows": done.total_rows,
        "imported": done.imported,
        "refused": done.refused,
        "seconds": seconds,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _rss_mb("VmHWM"),
    }
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


def bench_import(
    *, project, memory_project, speed_rows: int = SPEED_ROWS, memory_rows: int = MEMORY_ROWS
) -> list[Result]:
    from django.db import connection

    from messaging.contacts.imports import contact_import_run
    from messaging.models import Contact

    workdir = Path(tempfile.mkdtemp(prefix="wappin-bench-import-"))
    try:
        path = workdir / "contacts-100k.csv"
        invalid = csv_write(path, rows=speed_rows, seed=8)
        size_mb = path.stat().st_size / 1e6
        bare_seconds = bare_pipeline(path)
        contact_import = _import_create(project=project, path=path)
        started = time.perf_counter()
        done = contact_import_run(import_id=contact_import.pk)
        portal_seconds = time.perf_counter() - started
        if (
            done.status != "done"
            or done.refused != invalid
            or done.imported != speed_rows - invalid
        ):
            raise BenchError(
                f"import of {speed_rows} rows: {done.status} {done.failure_reason} "
                f"imported {done.imported}, refused {done.refused} (expected {invalid})"
            )
        contacts = Contact.objects.filter(project=project).count()
        # The same file again: every valid row is now an update (ON CONFLICT DO UPDATE).
        again = _import_create(project=project, path=path)
        started = time.perf_counter()
        done_again = contact_import_run(import_id=again.pk)
        update_seconds = time.perf_counter() - started
        portal_rate = speed_rows / portal_seconds
        bare_rate = speed_rows / bare_seconds
        say(
            f"    import {speed_rows:,} rows ({size_mb:.1f} MB, {invalid:,} invalid): {portal_rate:,.0f} rows/s new, "
            f"{speed_rows / update_seconds:,.0f} rows/s as updates; bare pipeline {bare_rate:,.0f} rows/s"
        )
        speed = Result(
            key="8a",
            name=f"Contact import {speed_rows // 1000}k rows ({connection.vendor})",
            measured=(
                f"{portal_rate:,.0f} rows/s (updates {speed_rows / update_seconds:,.0f}) vs bare read+phonenumbers+"
                f"{'COPY' if connection.vendor == 'postgresql' else 'executemany'} {bare_rate:,.0f} rows/s"
            ),
            ratio=portal_rate / bare_rate,
            target=SPEED_TARGET,
            compare=">=",
            figures={
                "rows": speed_rows,
                "invalid": invalid,
                "contacts": contacts,
                "portal_seconds": portal_seconds,
                "portal_update_seconds": update_seconds,
                "updated_second_time": done_again.updated,
                "bare_seconds": bare_seconds,
                "database": connection.vendor,
            },
        )

        big = workdir / "contacts-1m.csv"
        csv_write(big, rows=memory_rows, seed=9, first=10_000_000)
        big_import = _import_create(project=memory_project, path=big)
        connection.close()  # the child writes; SQLite must not find this process holding a lock
        worker = _worker_peak(big_import.pk)
        if worker["status"] != "done" or worker["rows"] != memory_rows:
            raise BenchError(f"the 1M-row import did not finish: {worker}")
        say(
            f"    worker import of {memory_rows:,} rows ({big.stat().st_size / 1e6:.0f} MB): {worker['seconds']:.0f} s, "
            f"{memory_rows / worker['seconds']:,.0f} rows/s, peak RSS {worker['peak_rss_mb']:.0f} MB "
            f"(after start-up {worker['baseline_rss_mb']:.0f} MB)"
        )
        memory = Result(
            key="8b",
            name=f"Contact import worker memory, {memory_rows // 1_000_000}M rows",
            measured=(
                f"peak RSS {worker['peak_rss_mb']:.0f} MB (start-up {worker['baseline_rss_mb']:.0f} MB), "
                f"{memory_rows / worker['seconds']:,.0f} rows/s"
            ),
            ratio=worker["peak_rss_mb"] / MEMORY_TARGET_MB,
            target=1,
            figures={**worker, "target_mb": MEMORY_TARGET_MB, "file_mb": big.stat().st_size / 1e6},
        )
        return [speed, memory]
    finally:
        from messaging.models import ContactImport

        for stored in ContactImport.objects.filter(project__in=[project, memory_project]):
            stored.file.delete(save=False)
        for item in workdir.iterdir():
            item.unlink()
        workdir.rmdir()


def main() -> int:
    """This benchmark alone, on the database DATABASE_URL names (its own project rows, deleted after)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wappin_portal.settings.test")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from projects.models import Project
    from tests.bench.bench_kit import table

    database = settings.DATABASES["default"]
    say(f"Contact import benchmark on {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
    call_command("migrate", verbosity=0)
    stamp = str(int(time.time()))
    projects = [
        Project.objects.create(
            name=f"Bench import {stamp} {n}",
            client_id=f"88{stamp[-6:]}{n}",
            wappin_project_id=f"88{n}",
        )
        for n in range(2)
    ]
    media = Path(tempfile.mkdtemp(prefix="wappin-bench-media-"))
    settings.MEDIA_ROOT = media
    os.environ["MEDIA_ROOT"] = str(media)
    try:
        results = bench_import(project=projects[0], memory_project=projects[1])
    finally:
        from django.db import connection

        connection.close()
        Project.objects.filter(pk__in=[p.pk for p in projects]).delete()
        import shutil

        shutil.rmtree(media, ignore_errors=True)
    say("")
    say(table(results))
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.exit(worker_main(int(sys.argv[2])))
    sys.exit(main())
