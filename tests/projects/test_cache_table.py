"""`migrate` alone makes the database cache's table: no `createcachetable` step."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "test_portal_cache"


def _before_the_cache_migration() -> str:
    """The projects migration the cache table's migration follows (so renumbering keeps this test)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    name = next(
        name
        for app, name in loader.disk_migrations
        if app == "projects" and name.endswith("_cache_table")
    )
    return next(
        dep
        for app, dep in loader.disk_migrations[("projects", name)].dependencies
        if app == "projects"
    )


@pytest.fixture
def database_cache(settings):
    """The throttle's cache in a database table, as `dbcache://` in production settings."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": TABLE}
    }
    yield TABLE
    with connection.schema_editor() as editor:
        if TABLE in connection.introspection.table_names():
            editor.execute(f"DROP TABLE {editor.quote_name(TABLE)}")


def _tables() -> list[str]:
    return connection.introspection.table_names()


def test_migrate_creates_the_cache_table_and_the_api_answers(database_cache, api_key):
    # Given a database whose cache table is gone (the migration unapplied drops it)
    call_command("migrate", "projects", _before_the_cache_migration(), verbosity=0)
    assert database_cache not in _tables()

    # When only `migrate` runs
    call_command("migrate", verbosity=0)

    # Then the table exists and the throttled API answers
    assert database_cache in _tables()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[0]}")
    response = client.get("/api/v1/templates/")
    assert response.status_code == 200, response.content


def test_createcachetable_after_migrate_is_harmless(database_cache):
    call_command("migrate", "projects", _before_the_cache_migration(), verbosity=0)
    call_command("migrate", "projects", verbosity=0)

    call_command("createcachetable", verbosity=0)

    assert database_cache in _tables()


def test_the_migration_keeps_a_table_createcachetable_made(database_cache):
    # Given the table made the old way, before the migration runs
    call_command("migrate", "projects", _before_the_cache_migration(), verbosity=0)
    call_command("createcachetable", verbosity=0)

    # When the migration runs, it keeps it instead of failing
    call_command("migrate", "projects", verbosity=0)

    assert database_cache in _tables()
