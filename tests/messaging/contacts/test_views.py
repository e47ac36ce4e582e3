"""The contacts pages: list, search, add/edit, import from CSV and XLSX, export."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import pytest
from openpyxl import Workbook

from messaging.models import Contact, ContactGroup
from tests import factories

pytestmark = pytest.mark.django_db


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.fixture
def import_file(marketer_client, django_capture_on_commit_callbacks):
    """Upload a file to the import form, run its background import, and open the page it leads to."""

    def upload(name: str, content: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            response = marketer_client.post("/contacts/import/", {"file": _upload(name, content)})
        return (
            marketer_client.get(response["Location"]) if response.status_code == 302 else response
        )

    return upload


def test_contact_list_shows_contacts_with_opted_out_badge(marketer_client, project):
    factories.ContactFactory(project=project, name="Budi Santoso", phone_number="6281234567001")
    factories.ContactFactory(
        project=project,
        name="Siti Rahma",
        phone_number="6281234567002",
        opted_out_at=timezone.now(),
    )
    page = marketer_client.get("/contacts/").content.decode()
    assert "Budi Santoso" in page and "6281234567001" in page
    assert "Siti Rahma" in page
    assert page.count(">Opted out</span>") == 1


def test_contact_search_finds_by_name_and_by_local_number(marketer_client, project):
    factories.ContactFactory(project=project, name="Budi Santoso", phone_number="6281234567001")
    factories.ContactFactory(project=project, name="Siti Rahma", phone_number="6281299990002")
    by_name = marketer_client.get("/contacts/", {"q": "budi"}).content.decode()
    assert "Budi Santoso" in by_name and "Siti Rahma" not in by_name
    by_local_number = marketer_client.get("/contacts/", {"q": "0812 9999"}).content.decode()
    assert "Siti Rahma" in by_local_number and "Budi Santoso" not in by_local_number


def test_contact_group_filter(marketer_client, project):
    vip = ContactGroup.objects.create(project=project, name="VIP")
    factories.ContactFactory(project=project, name="Budi Santoso").groups.add(vip)
    factories.ContactFactory(project=project, name="Siti Rahma")
    page = marketer_client.get("/contacts/", {"group": vip.pk}).content.decode()
    assert "Budi Santoso" in page and "Siti Rahma" not in page


def test_contact_list_paginates(marketer_client, project):
    for n in range(55):
        factories.ContactFactory(project=project, name=f"Person {n:02d}")
    first = marketer_client.get("/contacts/").content.decode()
    second = marketer_client.get("/contacts/", {"page": 2}).content.decode()
    assert "Person 00" in first and "Person 54" not in first
    assert "Person 54" in second and "Page 2 of 2" in second


def test_contacts_of_another_project_are_never_visible(marketer_client, project):
    other = factories.ContactFactory(name="Someone Else", phone_number="6281277778888")
    assert "Someone Else" not in marketer_client.get("/contacts/").content.decode()
    assert marketer_client.get(f"/contacts/{other.pk}/edit/").status_code == 404
    export = b"".join(marketer_client.get("/contacts/export.csv").streaming_content).decode()
    assert "6281277778888" not in export


def test_adding_a_contact_normalises_its_number(marketer_client, project):
    response = marketer_client.post(
        "/contacts/new/",
        {"name": "Budi", "phone_number": "0812-3456-7001", "groups": "VIP, Jakarta"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(project=project)
    assert contact.phone_number == "6281234567001"
    assert sorted(group.name for group in contact.groups.all()) == ["Jakarta", "VIP"]


def test_adding_an_invalid_number_shows_why(marketer_client, project):
    response = marketer_client.post("/contacts/new/", {"name": "Budi", "phone_number": "0812"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "not a valid phone number" in page or "not a phone number" in page
    assert not Contact.objects.exists()


def test_adding_a_duplicate_number_is_refused_clearly(marketer_client, project):
    factories.ContactFactory(project=project, phone_number="6281234567001")
    response = marketer_client.post("/contacts/new/", {"phone_number": "+62 812-3456-7001"})
    assert "6281234567001 is already a contact" in response.content.decode()
    assert Contact.objects.filter(project=project).count() == 1


def test_editing_a_contact_keeps_its_row(marketer_client, project):
    contact = factories.ContactFactory(project=project, name="Old", phone_number="6281234567001")
    edit_page = marketer_client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert "6281234567001" in edit_page
    response = marketer_client.post(
        f"/contacts/{contact.pk}/edit/", {"name": "New Name", "phone_number": "081234567009"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.phone_number) == ("New Name", "6281234567009")


def test_a_developer_may_view_contacts_but_not_change_them(client, project):
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    factories.ContactFactory(project=project, name="Budi Santoso")
    client.force_login(developer)
    page = client.get("/contacts/").content.decode()
    assert "Budi Santoso" in page and "Add a contact" not in page
    assert client.get("/contacts/new/").status_code == 403
    assert client.post("/contacts/new/", {"phone_number": "081234567001"}).status_code == 403
    assert not Contact.objects.filter(phone_number="6281234567001").exists()


def test_a_user_without_project_sees_a_friendly_page(client):
    client.force_login(factories.UserFactory())
    response = client.get("/contacts/")
    assert response.status_code == 200
    assert "not a member of any project" in response.content.decode()


def test_import_csv_with_good_and_bad_rows(marketer_client, import_file, project):
    # Given a contact already known, and a file with new, updated and broken rows
    factories.ContactFactory(project=project, name="Old Name", phone_number="6281234567001")
    content = (
        b"name,phone,group\n"
        b"Budi Santoso,0812 3456 7001,VIP\n"  # row 2: updates the existing contact
        b"Siti Rahma,+62 812-3456-7002,VIP; Jakarta\n"  # row 3: new
        b"Nobody,12,\n"  # row 4: too short
        b"Letters,08abc,\n"  # row 5: letters
        b"Andi,6281234567003,\n"  # row 6: new
    )
    # When it is imported
    response = import_file("contacts.csv", content)
    page = response.content.decode()
    # Then the summary and each refused row with its reason show
    assert "2 imported, 1 updated, 2 refused" in page
    assert "<td>4</td>" in page and "<td>5</td>" in page
    assert "contains letters" in page
    numbers = set(Contact.objects.filter(project=project).values_list("phone_number", flat=True))
    assert numbers == {"6281234567001", "6281234567002", "6281234567003"}
    assert Contact.objects.get(phone_number="6281234567001").name == "Budi Santoso"
    siti = Contact.objects.get(phone_number="6281234567002")
    assert sorted(group.name for group in siti.groups.all()) == ["Jakarta", "VIP"]


def test_import_xlsx_reads_numeric_phone_cells(marketer_client, import_file, project):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Phone", "Group"])
    sheet.append(["Budi Santoso", 6281234567001, "VIP"])
    sheet.append(["Broken", "abc", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = import_file("list.xlsx", buffer.getvalue())
    page = response.content.decode()
    assert "1 imported, 0 updated, 1 refused" in page
    assert Contact.objects.get(project=project).name == "Budi Santoso"


def test_import_without_a_phone_column_is_refused(marketer_client, import_file, project):
    response = import_file("contacts.csv", b"name,email\nBudi,b@example.com\n")
    assert "name the columns" in response.content.decode()
    assert not Contact.objects.exists()


def test_import_of_another_file_type_is_refused(marketer_client, import_file, project):
    response = import_file("contacts.pdf", b"%PDF-1.4")
    assert "Upload a .csv or .xlsx file" in response.content.decode()


def test_export_csv_lists_the_filtered_contacts_in_import_columns(marketer_client, project):
    vip = ContactGroup.objects.create(project=project, name="VIP")
    factories.ContactFactory(
        project=project, name="Budi Santoso", phone_number="6281234567001"
    ).groups.add(vip)
    factories.ContactFactory(project=project, name="=HYPERLINK(1)", phone_number="6281234567002")
    response = marketer_client.get("/contacts/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["name", "phone", "group", "opted_out_at"]
    assert ["Budi Santoso", "6281234567001", "VIP", ""] in rows
    # A formula-looking name is defused for spreadsheets.
    assert ["'=HYPERLINK(1)", "6281234567002", "", ""] in rows
    only_vip = b"".join(
        marketer_client.get("/contacts/export.csv", {"group": vip.pk}).streaming_content
    )
    assert b"6281234567002" not in only_vip


def test_import_of_a_file_over_the_cap_is_refused_before_it_is_read(
    marketer_client, project, monkeypatch
):
    # Given a cap of 1 KB (the real one is 10 MB)
    monkeypatch.setattr("messaging.contacts.forms.IMPORT_MAX_BYTES", 1024)
    upload = SimpleUploadedFile(
        "big.csv", b"name,phone\n" + b"Budi,081234567890\n" * 100, content_type="text/csv"
    )
    # When a marketer uploads a bigger file
    response = marketer_client.post("/contacts/import/", {"file": upload})
    # Then it is refused on the field, and nothing is imported
    assert "larger than" in response.content.decode()
    assert not Contact.objects.filter(project=project).exists()


def test_import_of_a_csv_with_an_unbalanced_quote_is_refused_whole(
    marketer_client, import_file, project
):
    # Given a file whose good rows are followed by a quote that never closes (the rest of
    # the file becomes one field, larger than the csv module's field limit)
    content = b'name,phone\nBudi,081234567001\n"Siti,081234567002\n' + b"x" * 200_000 + b"\n"
    # When it is imported
    response = import_file("contacts.csv", content)
    # Then the form says why, and not even the good rows before it are written
    assert response.status_code == 200
    assert "not valid CSV near line" in response.content.decode()
    assert not Contact.objects.filter(project=project).exists()


def test_import_reads_a_csv_with_old_mac_line_ends(marketer_client, import_file, project):
    content = b"name,phone\rBudi,081234567001\rSiti,081234567002\r"
    response = import_file("contacts.csv", content)
    assert "2 imported, 0 updated, 0 refused" in response.content.decode()


def test_import_of_a_broken_sheet_inside_a_valid_xlsx_is_refused_whole(
    marketer_client, import_file, project
):
    # Given an .xlsx whose workbook opens but whose sheet XML is cut off after a good row
    import zipfile

    workbook = Workbook()
    workbook.active.append(["name", "phone"])
    workbook.active.append(["Budi", "081234567001"])
    workbook.active.append(["Siti", "081234567002"])
    good = io.BytesIO()
    workbook.save(good)
    broken = io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b"081234567002")]
            target.writestr(item, data)
    # When it is imported
    response = import_file("list.xlsx", broken.getvalue())
    # Then it is refused as unreadable, and nothing is written
    assert response.status_code == 200
    assert "not a readable Excel (.xlsx) file" in response.content.decode()
    assert not Contact.objects.filter(project=project).exists()


def test_import_drops_nul_bytes_from_cells(marketer_client, import_file, project):
    # PostgreSQL cannot store NUL in text: a stray one must not reach the database.
    content = b"name,phone\nBu\x00di,0812\x0034567001\n"
    response = import_file("contacts.csv", content)
    assert "1 imported, 0 updated, 0 refused" in response.content.decode()
    assert Contact.objects.get(project=project).name == "Budi"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_import_reads_a_utf16_csv(marketer_client, import_file, project, encoding):
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
    content = "name\tphone\nJosé\t081234567001\n".encode(encoding)
    response = import_file("contacts.txt", content)
    assert "1 imported, 0 updated, 0 refused" in response.content.decode()
    assert Contact.objects.get(project=project).phone_number == "6281234567001"


def test_import_keeps_only_the_named_columns_of_a_very_wide_sheet(
    marketer_client, import_file, project
):
    # The file is read whole before any row is written; only the cells up to the last named
    # column are kept, so a sheet 2000 columns wide is read like one of three.
    workbook = Workbook()
    workbook.active.append(["name", "phone", "group"] + [f"extra {n}" for n in range(2000)])
    for n in range(20):
        workbook.active.append([f"Person {n}", f"0812345670{n:02d}", "VIP"] + ["x"] * 2000)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = import_file("wide.xlsx", buffer.getvalue())
    assert "20 imported, 0 updated, 0 refused" in response.content.decode()
    assert ContactGroup.objects.get(project=project, name="VIP").contacts.count() == 20
