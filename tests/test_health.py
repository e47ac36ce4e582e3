"""`/healthz` (the process answers) and `/readyz` (database, broker, cache, migrations)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

import pytest

from wappin_portal import health

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_readiness():
    health.readiness_cache_clear()
    yield
    health.readiness_cache_clear()


@pytest.fixture
def silent_port():
    """A loopback port that accepts TCP connections and never answers: a hung server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_healthz_answers_without_authentication(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_is_ok_when_everything_is_reachable(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_broker_when_its_port_is_closed(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    # Only the component's name: no host, no port, no error text.
    assert response.json() == {"status": "unavailable", "failed": ["broker"]}


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_in_time_when_the_broker_hangs(client, settings, silent_port):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_port}/0"
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 2
    assert response.json() == {"status": "unavailable", "failed": ["broker"]}


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_cache_when_it_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/1",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["cache"]}


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_cache_when_its_database_table_is_missing(client, settings):
    # A database cache whose table nobody made (no migration, no createcachetable)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_table_nobody_made",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["cache"]}


@pytest.mark.django_db(transaction=True)
def test_readyz_names_unapplied_migrations(client):
    # Given a migration the database has not recorded
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, app, name, applied FROM django_migrations WHERE app = 'projects' ORDER BY id DESC"
        )
        row = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE id = %s", [row[0]])
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "failed": ["migrations"]}
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (id, app, name, applied) VALUES (%s, %s, %s, %s)",
                list(row),
            )


@pytest.mark.django_db(transaction=True)
def test_readyz_keeps_its_answer_a_few_seconds(client, settings):
    assert client.get("/readyz").status_code == 200
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    assert client.get("/readyz").status_code == 200  # the answer of a moment ago
    health.readiness_cache_clear()
    assert client.get("/readyz").status_code == 503


_PROBE = """
import json, time
import django
django.setup()
from django.test import Client
client = Client()
# A started web process has its middleware loaded (WSGIHandler does it at start-up): so here.
client.handler.load_middleware()
started = time.monotonic()
response = client.get("/readyz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


@pytest.mark.parametrize("server", ["stopped", "hung"])
def test_readyz_answers_503_within_2_seconds_when_postgresql_is_down(tmp_path, silent_port, server):
    # Given production settings whose PostgreSQL is stopped (a closed port) or hung (never answers)
    port = _closed_port() if server == "stopped" else silent_port
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "DEBUG")},
        "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.production",
        "SECRET_KEY": "k" * 60,
        "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS0zMmJ5dGVzISE=",
        "DATABASE_URL": f"postgres://wappin@127.0.0.1:{port}/wappin",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "ALLOWED_HOSTS": "testserver",
        "HOME": str(tmp_path),
    }
    # When /readyz is asked
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # Then it says the database is unavailable, within 2 s, and nothing more
    assert answer["status"] == 503
    assert answer["body"] == {"status": "unavailable", "failed": ["database"]}
    assert answer["seconds"] < 2
