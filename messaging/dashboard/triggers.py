# ruff: noqa: S608 - every piece of SQL here is built from this module's constants.
"""The database triggers that keep `MessageHourlyCount` (the dashboard's figures) exact.

Every statement that inserts, re-statuses or deletes messages adds delta rows to the counts
table: +1 for a message's new (status, template), -1 for its old one. Triggers rather than
Python because messages change through bulk inserts, `QuerySet.update()` and `UPDATE … FROM
VALUES` (`wappin_portal.db.rows_update`), which no signal sees; one place keeps every path
right. `message_counts_squash` folds the deltas.

PostgreSQL runs statement-level triggers over transition tables: a bulk write of thousands of
messages adds one aggregated row per key. SQLite (the embedded default) has row-level ones.
SQLite drops a table's triggers when a migration rebuilds the table, so `post_migrate`
(messaging.apps) installs whatever is missing after every `migrate`.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TRIGGERS = (
    "messaging_message_counts_insert",
    "messaging_message_counts_update",
    "messaging_message_counts_delete",
)
COUNTS = "messaging_messagehourlycount"
COLUMNS = "project_id, hour, template_id, direction, status, count, squashed"

PG_HOUR = "date_trunc('hour', {t}.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
PG_KEY = "{t}.project_id, " + PG_HOUR + ", {t}.template_id, {t}.direction, {t}.status"
PG_CHANGED = "o.status IS DISTINCT FROM n.status OR o.template_id IS DISTINCT FROM n.template_id"
PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION messaging_message_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {COUNTS} ({COLUMNS})
  SELECT {PG_KEY.format(t="n")}, count(*), false FROM new_rows n GROUP BY 1, 2, 3, 4, 5;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION messaging_message_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {COUNTS} ({COLUMNS})
  SELECT project_id, hour, template_id, direction, status, sum(delta), false FROM (
    SELECT {PG_KEY.format(t="o")}, -1 FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE {PG_CHANGED}
    UNION ALL
    SELECT {PG_KEY.format(t="n")}, 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE {PG_CHANGED}
  ) AS deltas (project_id, hour, template_id, direction, status, delta)
  GROUP BY 1, 2, 3, 4, 5 HAVING sum(delta) <> 0;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION messaging_message_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {COUNTS} ({COLUMNS})
  SELECT {PG_KEY.format(t="o")}, -count(*), false FROM old_rows o GROUP BY 1, 2, 3, 4, 5;
  RETURN NULL;
END $$;
"""
PG_TRIGGERS = {
    "messaging_message_counts_insert": "AFTER INSERT ON messaging_message "
    "REFERENCING NEW TABLE AS new_rows",
    "messaging_message_counts_update": "AFTER UPDATE ON messaging_message "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "messaging_message_counts_delete": "AFTER DELETE ON messaging_message "
    "REFERENCING OLD TABLE AS old_rows",
}

# Django stores SQLite datetimes as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00', {t}.created_at)"
SQLITE_VALUES = "{t}.project_id, " + SQLITE_HOUR + ", {t}.template_id, {t}.direction, {t}.status"
SQLITE_TRIGGERS = {
    "messaging_message_counts_insert": f"""AFTER INSERT ON messaging_message BEGIN
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="NEW")}, 1, 0);
    END""",
    "messaging_message_counts_update": f"""AFTER UPDATE OF status, template_id
    ON messaging_message
    WHEN OLD.status IS NOT NEW.status OR OLD.template_id IS NOT NEW.template_id BEGIN
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="OLD")}, -1, 0);
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="NEW")}, 1, 0);
    END""",
    "messaging_message_counts_delete": f"""AFTER DELETE ON messaging_message BEGIN
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="OLD")}, -1, 0);
    END""",
}


def _vendor(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(
            f"The dashboard's counts need PostgreSQL or SQLite, not {connection.vendor}."
        )
    return connection.vendor


def counts_triggers_present(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of the count triggers that exist on the messages table."""
    with connection.cursor() as cursor:
        if _vendor(connection) == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'messaging_message'::regclass AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'messaging_message'"
            )
        return {row[0] for row in cursor.fetchall()} & set(TRIGGERS)


def counts_triggers_install(connection: BaseDatabaseWrapper) -> list[str]:
    """Create the triggers that are missing; returns their names (none when all are there)."""
    missing = [name for name in TRIGGERS if name not in counts_triggers_present(connection)]
    if not missing:
        return []
    with connection.cursor() as cursor:
        if _vendor(connection) == "postgresql":
            cursor.execute(PG_FUNCTIONS)
            for name in missing:
                cursor.execute(
                    f"CREATE TRIGGER {name} {PG_TRIGGERS[name]} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
                )
        else:
            for name in missing:
                cursor.execute(f"CREATE TRIGGER {name} {SQLITE_TRIGGERS[name]}")
    return missing


def counts_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            if _vendor(connection) == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON messaging_message")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def counts_backfill(connection: BaseDatabaseWrapper) -> None:
    """Count the messages written before the triggers existed, once, as squashed rows."""
    postgresql = _vendor(connection) == "postgresql"
    hour = (PG_HOUR if postgresql else SQLITE_HOUR).format(t="m")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {COUNTS} ({COLUMNS}) "
            f"SELECT m.project_id, {hour}, m.template_id, m.direction, m.status, count(*), "
            f"{'true' if postgresql else '1'} FROM messaging_message m GROUP BY 1, 2, 3, 4, 5"
        )
