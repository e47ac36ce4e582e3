# ruff: noqa: S608 - every piece of SQL here is built from this module's constants.
"""The database triggers that keep `MessageDailyCount` (the dashboard's figures) exact.

Every statement that inserts, re-statuses or deletes messages adds delta rows to the counts
table: +1 for a message's new (status, template), -1 for its old one. Triggers rather than
Python because messages change through bulk inserts, `QuerySet.update()` and `UPDATE … FROM
VALUES` (`wappin_portal.db.rows_update`), which no signal sees; one place keeps every path
right. `message_counts_squash` folds the deltas.

PostgreSQL runs statement-level triggers over transition tables: a bulk write of thousands of
messages adds one aggregated row per key. SQLite (the embedded default) has row-level ones.
SQLite drops a table's triggers when a migration rebuilds the table, so `post_migrate`
(messaging.apps) installs whatever is missing after every `migrate`.

Days are the portal's `TIME_ZONE` days (PostgreSQL converts with the zone's rules; SQLite,
which knows no zones, with the zone's offset when the triggers were made). Each trigger's SQL
carries a marker of its zone: when `TIME_ZONE` changes, `migrate` remakes the triggers and
recounts every message in the new zone's days.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

TRIGGERS = (
    "messaging_message_counts_insert",
    "messaging_message_counts_update",
    "messaging_message_counts_delete",
)
COUNTS = "messaging_messagedailycount"
COLUMNS = "project_id, day, template_id, direction, status, count, squashed"

PG_DAY = "({t}.created_at AT TIME ZONE '@ZONE@')::date"
PG_KEY = "{t}.project_id, " + PG_DAY + ", {t}.template_id, {t}.direction, {t}.status"
PG_CHANGED = "o.status IS DISTINCT FROM n.status OR o.template_id IS DISTINCT FROM n.template_id"
PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION messaging_message_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN -- @MARKER@
  INSERT INTO {COUNTS} ({COLUMNS})
  SELECT {PG_KEY.format(t="n")}, count(*), false FROM new_rows n GROUP BY 1, 2, 3, 4, 5;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION messaging_message_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN -- @MARKER@
  INSERT INTO {COUNTS} ({COLUMNS})
  SELECT project_id, day, template_id, direction, status, sum(delta), false FROM (
    SELECT {PG_KEY.format(t="o")}, -1 FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE {PG_CHANGED}
    UNION ALL
    SELECT {PG_KEY.format(t="n")}, 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE {PG_CHANGED}
  ) AS deltas (project_id, day, template_id, direction, status, delta)
  GROUP BY 1, 2, 3, 4, 5 HAVING sum(delta) <> 0;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION messaging_message_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN -- @MARKER@
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
SQLITE_DAY = "date({t}.created_at, '@OFFSET@ minutes')"
SQLITE_VALUES = "{t}.project_id, " + SQLITE_DAY + ", {t}.template_id, {t}.direction, {t}.status"
SQLITE_TRIGGERS = {
    "messaging_message_counts_insert": f"""AFTER INSERT ON messaging_message BEGIN -- @MARKER@
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="NEW")}, 1, 0);
    END""",
    "messaging_message_counts_update": f"""AFTER UPDATE OF status, template_id
    ON messaging_message
    WHEN OLD.status IS NOT NEW.status OR OLD.template_id IS NOT NEW.template_id BEGIN -- @MARKER@
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="OLD")}, -1, 0);
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="NEW")}, 1, 0);
    END""",
    "messaging_message_counts_delete": f"""AFTER DELETE ON messaging_message BEGIN -- @MARKER@
      INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({SQLITE_VALUES.format(t="OLD")}, -1, 0);
    END""",
}


def _vendor(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(
            f"The dashboard's counts need PostgreSQL or SQLite, not {connection.vendor}."
        )
    return connection.vendor


def _zone() -> tuple[str, int]:
    """The portal's zone name (validated by zoneinfo) and its UTC offset now, in minutes."""
    zone = ZoneInfo(settings.TIME_ZONE)
    offset = datetime.now(zone).utcoffset()
    return zone.key, int(offset.total_seconds() // 60) if offset else 0


def _marker() -> str:
    name, offset = _zone()
    return f"zone: {name} {offset:+d}"


def _sql(template: str) -> str:
    name, offset = _zone()
    return (
        template.replace("@MARKER@", _marker())
        .replace("@ZONE@", name.replace("'", "''"))
        .replace("@OFFSET@", f"{offset:+d}")
    )


def counts_triggers_present(connection: BaseDatabaseWrapper) -> set[str]:
    """The count triggers on the messages table that count in the portal's zone."""
    marker = f"%{_marker()}%"
    with connection.cursor() as cursor:
        if _vendor(connection) == "postgresql":
            cursor.execute(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgrelid = 'messaging_message'::regclass AND NOT t.tgisinternal "
                "AND p.prosrc LIKE %s",
                [marker],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'messaging_message' AND sql LIKE %s",
                [marker],
            )
        return {row[0] for row in cursor.fetchall()} & set(TRIGGERS)


def counts_triggers_install(connection: BaseDatabaseWrapper) -> list[str]:
    """Create the triggers that are missing; returns their names (none when all are there).

    A trigger of another zone is remade, and then every count is recounted from the messages.
    """
    present = counts_triggers_present(connection)
    missing = [name for name in TRIGGERS if name not in present]
    if not missing:
        return []
    with connection.cursor() as cursor:
        other_zone = _any_trigger(connection)
        if _vendor(connection) == "postgresql":
            cursor.execute(_sql(PG_FUNCTIONS))
            for name in missing:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON messaging_message")
                cursor.execute(
                    f"CREATE TRIGGER {name} {PG_TRIGGERS[name]} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
                )
        else:
            for name in missing:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(f"CREATE TRIGGER {name} {_sql(SQLITE_TRIGGERS[name])}")
    if other_zone:
        counts_rebuild(connection)
    return missing


def _any_trigger(connection: BaseDatabaseWrapper) -> bool:
    """Whether a count trigger of any zone is there (then the counts exist, in its zone's days)."""
    with connection.cursor() as cursor:
        if _vendor(connection) == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'messaging_message'::regclass "
                "AND tgname = ANY(%s) AND NOT tgisinternal",
                [list(TRIGGERS)],
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'messaging_message' AND name IN (%s, %s, %s)",
                list(TRIGGERS),
            )
        return cursor.fetchone()[0] > 0


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
    day = _sql((PG_DAY if postgresql else SQLITE_DAY).format(t="m"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {COUNTS} ({COLUMNS}) "
            f"SELECT m.project_id, {day}, m.template_id, m.direction, m.status, count(*), "
            f"{'true' if postgresql else '1'} FROM messaging_message m GROUP BY 1, 2, 3, 4, 5"
        )


def counts_rebuild(connection: BaseDatabaseWrapper) -> None:
    """Recount every message (after a change of zone): in one transaction with the writes locked."""
    with connection.cursor() as cursor:
        if _vendor(connection) == "postgresql":
            cursor.execute("LOCK TABLE messaging_message IN SHARE MODE")
        cursor.execute(f"DELETE FROM {COUNTS}")
    counts_backfill(connection)
