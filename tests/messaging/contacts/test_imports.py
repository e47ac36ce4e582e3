"""Contact import as a background job: what the import writes and counts, row by row and chunk by chunk."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import pytest
from openpyxl import Workbook

from messaging.contacts.imports import contact_import_run, contact_import_start
from messaging.models import Contact, ContactGroup, ContactImport
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_import(project, marketer, django_capture_on_commit_callbacks):
    """Start an import of `content` as a marketer would, and run its task (eager) on commit."""

    def run(name: str, content: bytes) -> ContactImport:
        with django_capture_on_commit_callbacks(execute=True):
            started = contact_import_start(
                project=project, upload=SimpleUploadedFile(name, content), created_by=marketer
            )
        started.refresh_from_db()
        return started

    return run


def _refusals(contact_import: ContactImport) -> list[tuple[int, str, str]]:
    return [(r.row, r.value, r.reason) for r in contact_import.refusals.order_by("row")]


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_foreign_number_is_imported_and_the_rows_after_it_too(run_import, project):
    # Given a file whose second contact has a US number written with +1
    content = b"name,phone\nBudi,0812 3456 7001\nAlice,+1 415 555 2671\nSiti,0812 3456 7002\n"
    # When it is imported
    done = run_import("contacts.csv", content)
    # Then every row is a contact, the US one under its own country code
    assert (done.status, done.imported, done.updated, done.refused, done.total_rows) == (
        "done",
        3,
        0,
        0,
        3,
    )
    numbers = set(Contact.objects.filter(project=project).values_list("phone_number", flat=True))
    assert numbers == {"6281234567001", "14155552671", "6281234567002"}


def test_each_bad_row_is_refused_with_its_row_number_and_reason_and_the_rest_imported(
    run_import, project
):
    content = (
        b"name,phone,group\n"
        b"Budi,081234567001,VIP\n"  # row 2
        b"Nobody,12,\n"  # row 3: too short
        b"\n"  # row 4: blank, skipped (not refused)
        b"Letters,08abc,\n"  # row 5: letters
        b"No number,,VIP\n"  # row 6: no number
        b"Siti,081234567002,\n"  # row 7
    )
    done = run_import("contacts.csv", content)
    assert (done.status, done.imported, done.updated, done.refused) == ("done", 2, 0, 3)
    assert done.total_rows == 5
    refusals = _refusals(done)
    assert [(row, value) for row, value, _reason in refusals] == [(3, "12"), (5, "08abc"), (6, "")]
    assert "too short" in refusals[0][2]
    assert "contains letters" in refusals[1][2]
    assert "required" in refusals[2][2]
    assert Contact.objects.filter(project=project).count() == 2


def test_a_number_twice_in_the_file_is_one_contact_counted_once_new_then_updated(
    run_import, project
):
    content = (
        b"name,phone,group\n"
        b"Budi,081234567001,VIP\n"
        b"Budi Santoso,+62 812-3456-7001,Jakarta\n"  # the same number, written otherwise
        b",6281234567001,\n"  # again, without a name
    )
    done = run_import("contacts.csv", content)
    assert (done.imported, done.updated, done.refused) == (1, 2, 0)
    budi = Contact.objects.get(project=project)
    assert budi.name == "Budi Santoso"
    assert sorted(group.name for group in budi.groups.all()) == ["Jakarta", "VIP"]


def test_existing_contacts_are_updated_and_keep_their_opt_out_and_name_when_the_row_has_none(
    run_import, project
):
    # Given two known contacts, one of whom sent STOP
    stopped_at = timezone.now()
    factories.ContactFactory(
        project=project, name="Old Name", phone_number="6281234567001", opted_out_at=stopped_at
    )
    factories.ContactFactory(project=project, name="Keep Me", phone_number="6281234567002")
    content = b"name,phone\nNew Name,081234567001\n,081234567002\nSiti,081234567003\n"
    # When a file names them again
    done = run_import("contacts.csv", content)
    # Then they are counted as updated, renamed only where the row has a name, still opted out
    assert (done.imported, done.updated, done.refused) == (1, 2, 0)
    first = Contact.objects.get(phone_number="6281234567001")
    assert first.name == "New Name" and first.opted_out_at == stopped_at
    assert Contact.objects.get(phone_number="6281234567002").name == "Keep Me"


def test_groups_are_found_whatever_their_case_and_created_once(run_import, project):
    ContactGroup.objects.create(project=project, name="VIP")
    content = (
        b"name,phone,group\n"
        b"A,081234567001,vip; Jakarta\n"
        b"B,081234567002,VIP|jakarta\n"
        b"C,081234567003,Bandung\n"
    )
    run_import("contacts.csv", content)
    groups = {
        group.name: group.contacts.count() for group in ContactGroup.objects.filter(project=project)
    }
    assert groups == {"VIP": 2, "Jakarta": 2, "Bandung": 1}


def test_counts_stay_right_across_chunks(project, marketer, django_capture_on_commit_callbacks):
    # Given 10 rows where a number comes back in a later chunk, imported 3 rows at a time
    rows = [f"P{n},0812345670{n:02d},G{n % 2}" for n in range(9)] + ["Again,081234567000,G9"]
    content = ("name,phone,group\n" + "\n".join(rows) + "\n").encode()
    with django_capture_on_commit_callbacks(execute=False):
        started = contact_import_start(
            project=project, upload=SimpleUploadedFile("c.csv", content), created_by=marketer
        )
    # When the import runs
    done = contact_import_run(import_id=started.pk, chunk_rows=3)
    # Then the repeated number is an update, not a second contact
    assert (done.status, done.total_rows, done.imported, done.updated, done.refused) == (
        "done",
        10,
        9,
        1,
        0,
    )
    assert done.rows_read == 10
    assert Contact.objects.get(phone_number="6281234567000").name == "Again"
    assert sorted(
        g.name for g in Contact.objects.get(phone_number="6281234567000").groups.all()
    ) == ["G0", "G9"]


def test_a_retried_import_goes_on_after_the_last_chunk_written(
    project, marketer, django_capture_on_commit_callbacks
):
    # Given an import whose task wrote its first chunk (rows 2-3), then its worker died
    content = b"name,phone\nA,081234567001\nB,081234567002\nC,081234567003\nD,12\n"
    with django_capture_on_commit_callbacks(execute=False):
        started = contact_import_start(
            project=project, upload=SimpleUploadedFile("c.csv", content), created_by=marketer
        )
    factories.ContactFactory(project=project, phone_number="6281234567001", name="A")
    factories.ContactFactory(project=project, phone_number="6281234567002", name="B")
    ContactImport.objects.filter(pk=started.pk).update(status="running", imported=2, rows_read=2)
    # When the task runs again
    done = contact_import_run(import_id=started.pk, chunk_rows=2)
    # Then the first two rows are not counted again
    assert (done.status, done.imported, done.updated, done.refused) == ("done", 3, 0, 1)
    assert _refusals(done)[0][0] == 5


def test_an_xlsx_is_streamed_in_chunks(project, marketer, django_capture_on_commit_callbacks):
    rows = [["Name", "Phone", "Group"]]
    rows += [[f"P{n}", 6281200000000 + n, "Big"] for n in range(4_999)]
    rows += [["Bad", "abc", None]]
    with django_capture_on_commit_callbacks(execute=False):
        started = contact_import_start(
            project=project, upload=SimpleUploadedFile("big.xlsx", _xlsx(rows)), created_by=marketer
        )
    done = contact_import_run(import_id=started.pk, chunk_rows=2_000)
    assert (done.status, done.total_rows, done.imported, done.refused) == ("done", 5_000, 4_999, 1)
    assert _refusals(done) == [(5_001, "abc", "'abc' is not a phone number: it contains letters.")]
    assert ContactGroup.objects.get(project=project, name="Big").contacts.count() == 4_999


def test_an_unreadable_file_fails_with_a_reason_and_writes_nothing(run_import, project):
    done = run_import("contacts.xlsx", b"PK\x03\x04 not really a workbook")
    assert done.status == "failed"
    assert "not a readable Excel" in done.failure_reason
    assert done.finished_at is not None
    assert not Contact.objects.filter(project=project).exists()


def test_the_stored_file_and_its_uploader_are_kept(run_import, project, marketer):
    done = run_import("my contacts.csv", b"name,phone\nBudi,081234567001\n")
    assert done.original_filename == "my contacts.csv"
    assert done.created_by == marketer
    with done.file.open("rb") as stored:
        assert stored.read() == b"name,phone\nBudi,081234567001\n"
    assert done.started_at <= done.finished_at


def test_a_million_row_file_is_read_as_a_stream(tmp_path):
    # Given a CSV of a million contacts (about 30 MB), one of them bad
    from messaging.contacts.importing import import_rows

    path = tmp_path / "million.csv"
    with path.open("w") as handle:
        handle.write("name,phone,group\n")
        handle.writelines(f"P{n},{6281200000000 + n},Big\n" for n in range(999_999))
        handle.write("Bad,abc,\n")
    size = path.stat().st_size

    # When the import's reader goes through it (every allocation traced for the first 100,000 rows)
    import tracemalloc

    with path.open("rb") as binary:
        rows = import_rows(binary, kind="csv")
        tracemalloc.start()
        try:
            for _ in range(100_000):
                next(rows)
            _, peak = tracemalloc.get_traced_memory()
            position = binary.tell()
        finally:
            tracemalloc.stop()
        count, last = 100_000, None
        for row in rows:
            count += 1
            last = row

    # Then every row came, numbered as in the file; a tenth of the way in, the reader had
    # read about a tenth of the file and held a sliver of it (a stream, not a file read whole)
    assert count == 1_000_000
    assert (last.number, last.phone) == (1_000_001, "abc")
    assert position < size / 5, f"read {position:,} of {size:,} bytes for the first tenth"
    assert peak < size / 5, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_an_xlsx_with_a_huge_cell_is_refused_before_it_is_unpacked(run_import, project):
    # Issue 10, finding 4: a 158 KB .xlsx with one 150 MB cell took the process from 133 to 430 MB
    import tracemalloc
    import zipfile

    # (openpyxl cuts a cell at Excel's 32,767 characters when writing: the sheet is rewritten)
    small = zipfile.ZipFile(io.BytesIO(_xlsx([["Name", "Phone"], ["BIG", "081234567001"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for part in small.infolist():
            data = small.read(part.filename)
            if part.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"BIG", b"x" * 40_000_000)
            bomb.writestr(part.filename, data)
    content = buffer.getvalue()
    assert len(content) < 1_000_000

    tracemalloc.start()
    try:
        done = run_import("bomb.xlsx", content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert done.status == "failed"
    assert "far more than a sheet of contacts" in done.failure_reason
    assert not Contact.objects.filter(project=project).exists()
    assert peak < 20_000_000, f"peak {peak:,} bytes"
