"""The messaging pages in Bahasa Indonesia: the browser's Accept-Language picks the catalogue."""

from __future__ import annotations

import re

from django.utils import timezone

import pytest

from messaging.models import Message, MessageStatusEvent
from tests.factories import ContactFactory, MessageFactory

pytestmark = pytest.mark.django_db

INDONESIAN = {"HTTP_ACCEPT_LANGUAGE": "id-ID,id;q=0.9"}


def _headings(page: str) -> list[str]:
    """The text of the page's h1/h2/th, tags stripped and spaces squeezed."""
    found = re.findall(r"<(h1|h2|th)\b[^>]*>(.*?)</\1>", page, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", text).split()) for _tag, text in found]


def test_the_contacts_page_is_in_indonesian(marketer_client, project):
    ContactFactory(project=project, name="Budi", opted_out_at=timezone.now())

    page = marketer_client.get("/contacts/", **INDONESIAN).content.decode()

    for text in ("Tambah kontak", "Impor CSV / Excel", "Berhenti berlangganan", "Terapkan"):
        assert text in page
    headings = _headings(page)
    assert "Nama" in headings and "Nomor" in headings and "Pesan terakhir darinya" in headings
    for english in ("Contacts", "Add a contact", "Name", "Number", "Last message from them"):
        assert english not in headings
    assert "Opted out" not in page and "Add a contact" not in page


def test_the_history_and_a_message_are_in_indonesian(marketer_client, project):
    message = MessageFactory(
        project=project, status=Message.Status.FAILED, failure_reason="Nomor tidak aktif"
    )

    page = marketer_client.get("/history/", **INDONESIAN).content.decode()
    assert "Riwayat" in page and "Gagal" in page and "Ekspor CSV" in page
    assert "Waktu" in _headings(page) and "Jenis" in _headings(page)
    assert not {"When", "Kind", "Number", "By"} & set(_headings(page))
    assert not _headings(page)[0].startswith("History")

    MessageStatusEvent.objects.create(
        message=message, status="delivered", source="callback", occurred_at=timezone.now()
    )

    page = marketer_client.get(f"/history/{message.pk}/", **INDONESIAN).content.decode()
    assert "Linimasa" in page and "Detail" in page and "Gagal:" in page
    timeline = page[page.index('class="timeline"') :]
    assert "Diterima</span>" in timeline and "Callback" in timeline
    assert not {"Details", "Timeline", "What was sent"} & set(_headings(page))


def test_the_blasts_and_the_dashboard_are_in_indonesian(marketer_client, project):
    MessageFactory(project=project, status=Message.Status.DELIVERED)

    page = marketer_client.get("/blasts/", **INDONESIAN).content.decode()
    assert "Belum ada blast." in page and "No blasts yet" not in page

    page = marketer_client.get("/dashboard/", **INDONESIAN).content.decode()
    assert "Hari ini" in page and "Tingkat diterima" in page and "Per hari" in page
    assert not {"Today", "Per template", "Recent blasts"} & set(_headings(page))


def test_english_stays_the_default(marketer_client, project):
    ContactFactory(project=project)
    page = marketer_client.get("/contacts/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Add a contact" in page and "Last message from them" in page
