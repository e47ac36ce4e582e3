"""The table of every database cache in CACHES, so that `migrate` alone leaves a working site.

The API's throttle keeps its counters in the default cache, which is the database
(`dbcache://django_cache`) unless CACHE_URL names Redis; without this migration a fresh
database answered 500 until someone ran `createcachetable`. Creating the table is
idempotent (a table already made by `createcachetable` is kept), so that command stays
harmless; with no database cache configured this does nothing.
"""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations, router


def _database_cache_tables() -> list[str]:
    tables = {caches[alias]._table for alias in settings.CACHES if isinstance(caches[alias], BaseDatabaseCache)}
    return sorted(tables)


def cache_tables_create(apps, schema_editor):
    command = CreateCacheTable(no_color=True)
    command.verbosity = 0
    for table in _database_cache_tables():
        # Checks the router and skips a table that already exists.
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


def cache_tables_drop(apps, schema_editor):
    connection = schema_editor.connection
    existing = set(connection.introspection.table_names())
    for table in _database_cache_tables():
        model = BaseDatabaseCache(table, {}).cache_model_class
        if table in existing and router.allow_migrate_model(connection.alias, model):
            schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_send_engine"),
    ]

    operations = [
        migrations.RunPython(cache_tables_create, cache_tables_drop, elidable=False),
    ]
