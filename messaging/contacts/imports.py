"""Contact import as a background job: start it, run it (a Celery task), read its progress.

The web request only stores the file and enqueues `contact_import_run` on commit. The
task streams the file twice: a first pass counts the rows and checks the whole file
reads (a file broken half-way is refused whole, never half-imported); the second
writes it in chunks of `IMPORT_CHUNK_ROWS` rows, each chunk one transaction with
multi-row `INSERT ... ON CONFLICT` for the contacts and their group memberships, its
refused rows and the import's counters. A retried task goes on after the last chunk
written (`ContactImport.rows_read`), so nothing is counted twice.

Reading the file (streamed, the column rules, cell cleaning) is `importing.py`; the
group separators are the contact form's (`services.group_names_parse`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.contacts.importing import IMPORT_MAX_BYTES, ImportRow, import_file_kind, import_rows
from messaging.contacts.services import contacts_opt_out_mirror, group_names_parse
from messaging.models import Contact, ContactGroup, ContactImport, ContactImportRefusal
from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.services import audit_record
from wappin_portal.errors import NotFound, ValidationFailed
from wappin_portal.phone import phone_normalize

IMPORT_CHUNK_ROWS = 2_000
# How many refused rows an API answer or the progress page lists (the CSV download has all).
IMPORT_REFUSALS_SHOWN = 100
NAME_MAX_LENGTH = 120


# --- start ------------------------------------------------------------------------------


def contact_import_start(
    *,
    project: Project,
    upload: UploadedFile,
    created_by=None,
    api_key: ApiKey | None = None,
) -> ContactImport:
    """Store the uploaded file and queue its import; returns at once with the queued import."""
    capability_require(
        project=project, capability="contact.edit", actor=created_by, api_key=api_key
    )
    filename = (upload.name or "").replace("\x00", "")
    import_file_kind(filename)
    if upload.size > IMPORT_MAX_BYTES:
        raise ValidationFailed(
            _("The file is larger than %(size)d MB: split it.")
            % {"size": IMPORT_MAX_BYTES // (1024 * 1024)},
            field="file",
            code="import_too_large",
        )
    if not upload.size:
        raise ValidationFailed(_("The file is empty."), field="file", code="import_empty")
    from messaging.contacts.import_tasks import (
        contact_import_run as run_task,  # tasks import this module
    )

    with transaction.atomic():
        contact_import = ContactImport(
            project=project,
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
            api_key=api_key,
            original_filename=filename[:255],
        )
        # Stored through default_storage (the FileField's storage): the worker reads it from there.
        contact_import.file.save(filename[-100:] or "contacts.csv", upload, save=False)
        contact_import.save()
        audit_record(
            action="contact.import",
            project=project,
            actor=contact_import.created_by,
            api_key=api_key,
            target=f"{contact_import.pk} {contact_import.original_filename}",
            data={"status": contact_import.status},
        )
        run_task.delay_on_commit(contact_import.pk)
    return contact_import


# --- writing ----------------------------------------------------------------------------


class _GroupIds:
    """Group name -> id, resolved once per file (case-insensitively, as the contact form does)."""

    def __init__(self, *, project: Project) -> None:
        self.project = project
        self.ids: dict[str, int] = {}

    def get(self, name: str) -> int:
        key = name.lower()
        if key not in self.ids:
            group = ContactGroup.objects.filter(project=self.project, name__iexact=name).first()
            if group is None:
                try:
                    with transaction.atomic():
                        group = ContactGroup.objects.create(project=self.project, name=name)
                except IntegrityError:  # created meanwhile by another import or a person
                    group = ContactGroup.objects.get(project=self.project, name=name)
            self.ids[key] = group.pk
        return self.ids[key]


def _number_normalize(raw: str, *, project: Project) -> str:
    # The one place the import reads a number: in the project's region, as every form does.
    return phone_normalize(raw, field="phone", region=project.default_region)


def _chunk_write(
    *, contact_import: ContactImport, rows: list[ImportRow], rows_read: int, groups: _GroupIds
) -> None:
    """One chunk in one transaction: contacts, memberships, refusals and the counters."""
    project = contact_import.project
    refusals: list[ContactImportRefusal] = []
    # number -> (name, group names): a number twice in the chunk is written once, its
    # last non-blank name kept and its groups added up (a row updating the one before it).
    entries: dict[str, tuple[str, list[str]]] = {}
    repeated = 0
    for row in rows:
        try:
            number = _number_normalize(row.phone, project=project)
        except ValidationFailed as exc:
            refusals.append(
                ContactImportRefusal(
                    contact_import=contact_import,
                    row=row.number,
                    value=row.phone[: ContactImportRefusal.VALUE_MAX_LENGTH],
                    reason=exc.message,
                )
            )
            continue
        name = " ".join(row.name.split())[:NAME_MAX_LENGTH]
        group_names = group_names_parse(row.groups)
        if number in entries:
            repeated += 1
            earlier_name, earlier_groups = entries[number]
            entries[number] = (name or earlier_name, earlier_groups + group_names)
        else:
            entries[number] = (name, group_names)

    with transaction.atomic():
        existing = set(
            Contact.objects.filter(project=project, phone_number__in=list(entries)).values_list(
                "phone_number", flat=True
            )
        )
        contact_ids = _contacts_upsert(project_id=project.pk, entries=entries)
        # A number on the suppression list stays opted out, whatever the file says.
        contacts_opt_out_mirror(project=project, numbers=list(entries))
        _memberships_insert(
            pairs=[
                (contact_ids[number], group_id)
                for number, (_name, names) in entries.items()
                for group_id in {groups.get(name) for name in names}
            ]
        )
        ContactImportRefusal.objects.bulk_create(refusals)
        ContactImport.objects.filter(pk=contact_import.pk).update(
            imported=F("imported") + len(entries) - len(existing),
            updated=F("updated") + len(existing) + repeated,
            refused=F("refused") + len(refusals),
            rows_read=rows_read,
            updated_at=timezone.now(),
        )


# Multi-row INSERT ... ON CONFLICT written out: the statement `bulk_create(update_conflicts=True)`
# sends, without building a model instance and preparing every field of every row, which took
# half the import's time (measured by tests/bench/bench_imports.py). On PostgreSQL the rows go
# as two arrays (`unnest`), not thousands of placeholders the driver would splice in one by one;
# SQLite (3.24+) gets VALUES rows, under its 32,766 parameters a statement.
ROWS_PER_STATEMENT = 1_000


def _contacts_upsert(
    *, project_id: int, entries: dict[str, tuple[str, list[str]]]
) -> dict[str, int]:
    """Insert the new numbers, rename the known ones whose row has a name; returns number -> id.

    Only `name` and `updated_at` are ever updated: an opted-out contact stays opted out, and a
    blank name in the file keeps the contact's name.
    """
    if not entries:
        return {}
    quote = connection.ops.quote_name
    table = quote(Contact._meta.db_table)
    project, phone, name, attributes, created, updated = (
        quote(Contact._meta.get_field(field).column)
        for field in ("project", "phone_number", "name", "attributes", "created_at", "updated_at")
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    returning = connection.features.can_return_rows_from_bulk_insert
    postgresql = connection.vendor == "postgresql"
    insert = (
        f"INSERT INTO {table} ({project}, {phone}, {name}, {attributes}, {created}, {updated}) "  # noqa: S608 - names from the model, values bound
    )
    conflict = (
        f" ON CONFLICT ({project}, {phone}) DO UPDATE SET "
        f"{name} = CASE WHEN EXCLUDED.{name} = '' THEN {table}.{name} ELSE EXCLUDED.{name} END, "
        f"{updated} = EXCLUDED.{updated}"
        + (f" RETURNING {quote('id')}, {phone}" if returning else "")
    )
    ids: dict[str, int] = {}
    items = list(entries.items())
    with connection.cursor() as cursor:
        # PostgreSQL takes the whole chunk in one statement (two array parameters).
        step = len(items) if postgresql else ROWS_PER_STATEMENT
        for start in range(0, len(items), step):
            batch = items[start : start + step]
            if postgresql:
                sql = (
                    insert + "SELECT %s, number, name, '{}'::jsonb, %s, %s "
                    "FROM unnest(%s::varchar[], %s::varchar[]) AS file_rows(number, name)"
                    + conflict
                )
                params = [project_id, now, now, [n for n, _v in batch], [v[0] for _n, v in batch]]
            else:
                sql = (
                    insert
                    + "VALUES "
                    + ", ".join(["(%s, %s, %s, '{}', %s, %s)"] * len(batch))
                    + conflict
                )
                params = [
                    value
                    for number, (row_name, _g) in batch
                    for value in (project_id, number, row_name, now, now)
                ]
            cursor.execute(sql, params)
            if returning:
                ids.update((number, contact_id) for contact_id, number in cursor.fetchall())
    if not returning:
        ids = dict(
            Contact.objects.filter(
                project_id=project_id, phone_number__in=list(entries)
            ).values_list("phone_number", "pk")
        )
    return ids


def _memberships_insert(*, pairs: list[tuple[int, int]]) -> None:
    """(contact id, group id) pairs into the contacts' groups; those already there are skipped."""
    if not pairs:
        return
    through = Contact.groups.through._meta
    quote = connection.ops.quote_name
    contact_column = quote(through.get_field("contact").column)
    group_column = quote(through.get_field("contactgroup").column)
    insert = f"INSERT INTO {quote(through.db_table)} ({contact_column}, {group_column}) "  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        step = len(pairs) if connection.vendor == "postgresql" else ROWS_PER_STATEMENT
        for start in range(0, len(pairs), step):
            batch = pairs[start : start + step]
            if connection.vendor == "postgresql":
                sql = insert + "SELECT * FROM unnest(%s::bigint[], %s::bigint[])"  # noqa: S608 - no value in the text
                params = [[contact for contact, _g in batch], [group for _c, group in batch]]
            else:
                sql = insert + "VALUES " + ", ".join(["(%s, %s)"] * len(batch))
                params = [value for pair in batch for value in pair]
            cursor.execute(sql + " ON CONFLICT DO NOTHING", params)


def _chunks(
    rows: Iterable[ImportRow | None], *, size: int
) -> Iterator[tuple[list[ImportRow], int]]:
    """(the chunk's rows, how many file rows were read once it is written)."""
    iterator = iter(rows)
    read = 0
    while block := list(itertools.islice(iterator, size)):
        read += len(block)
        yield [row for row in block if row is not None], read


# --- run --------------------------------------------------------------------------------


def contact_import_run(*, import_id: int, chunk_rows: int = IMPORT_CHUNK_ROWS) -> ContactImport:
    """Import the stored file; `done` at the end, or `failed` with the reason a file is unreadable."""
    with transaction.atomic():
        contact_import = (
            ContactImport.objects.select_for_update().select_related("project").get(pk=import_id)
        )
        if contact_import.is_finished:
            return contact_import
        if contact_import.status == ContactImport.Status.QUEUED:
            contact_import.status = ContactImport.Status.RUNNING
            contact_import.started_at = timezone.now()
            contact_import.save(update_fields=["status", "started_at", "updated_at"])
    kind = import_file_kind(contact_import.original_filename)
    try:
        # First pass: count, and read the whole file before writing a row of it.
        with contact_import.file.open("rb") as binary:
            total = sum(1 for row in import_rows(binary, kind=kind) if row is not None)
        ContactImport.objects.filter(pk=import_id).update(
            total_rows=total, updated_at=timezone.now()
        )
        groups = _GroupIds(project=contact_import.project)
        with contact_import.file.open("rb") as binary:
            rows = import_rows(binary, kind=kind)
            # A retried task skips the chunks already written.
            already = contact_import.rows_read
            for _skipped in itertools.islice(rows, already):
                pass
            for chunk, read in _chunks(rows, size=chunk_rows):
                _chunk_write(
                    contact_import=contact_import,
                    rows=chunk,
                    rows_read=already + read,
                    groups=groups,
                )
    except ValidationFailed as exc:
        return contact_import_fail(import_id=import_id, reason=exc.message)
    except FileNotFoundError:
        return contact_import_fail(
            import_id=import_id, reason=_("The uploaded file is no longer stored.")
        )
    ContactImport.objects.filter(pk=import_id).update(
        status=ContactImport.Status.DONE, finished_at=timezone.now(), updated_at=timezone.now()
    )
    contact_import.refresh_from_db()
    # The import changed contacts: the log says how many, on the name of who started it.
    audit_record(
        action="contact.import_done",
        project=contact_import.project,
        actor=contact_import.created_by,
        api_key=contact_import.api_key,
        target=f"{contact_import.pk} {contact_import.original_filename}",
        data={
            "rows": contact_import.total_rows,
            "imported": contact_import.imported,
            "updated": contact_import.updated,
            "refused": contact_import.refused,
        },
    )
    return contact_import


def contact_import_fail(*, import_id: int, reason: str) -> ContactImport:
    """Mark the import failed with a reason a person can read (the rows written before stay)."""
    ContactImport.objects.filter(pk=import_id).exclude(status=ContactImport.Status.DONE).update(
        status=ContactImport.Status.FAILED,
        failure_reason=reason,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return ContactImport.objects.get(pk=import_id)


# --- progress (reads) -------------------------------------------------------------------


def contact_import_get(*, project: Project, import_id: int) -> ContactImport:
    try:
        return ContactImport.objects.get(project=project, pk=import_id)
    except ContactImport.DoesNotExist as exc:
        raise NotFound(
            _("No such contact import in this project."), code="contact_import_not_found"
        ) from exc


def contact_import_refusals(*, contact_import: ContactImport) -> QuerySet[ContactImportRefusal]:
    return contact_import.refusals.order_by("row", "id")


def contact_import_refusal_rows(*, contact_import: ContactImport) -> Iterator[list[str]]:
    """The refusals CSV: header, then row, value, reason (values made safe for spreadsheets)."""
    from wappin_portal.csv_export import csv_safe

    yield ["row", "value", "reason"]
    for refusal in contact_import_refusals(contact_import=contact_import).iterator(chunk_size=2000):
        yield [str(refusal.row), csv_safe(refusal.value), csv_safe(refusal.reason)]


def contact_import_list(*, project: Project) -> QuerySet[ContactImport]:
    """The project's imports, newest first (who uploaded what, and how it went)."""
    return (
        ContactImport.objects.filter(project=project)
        .select_related("created_by", "api_key")
        .order_by("-created_at", "-id")
    )
