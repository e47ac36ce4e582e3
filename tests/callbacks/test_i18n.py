"""The chat panel in Bahasa Indonesia when the browser asks for it."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

INDONESIAN = {"HTTP_ACCEPT_LANGUAGE": "id-ID,id;q=0.9"}


def main_part(response) -> str:
    """The page's own content: the header and menu are the portal's (wappin_portal's catalogue)."""
    page = response.content.decode()
    return page[page.index('<main class="container"') : page.index("</main>")]


def test_the_chat_panel_speaks_indonesian(marketer_client, project):
    contact = factories.ContactFactory(
        project=project, name="Rina", last_inbound_at=timezone.now(), handed_over_at=timezone.now()
    )
    factories.MessageFactory(
        project=project,
        contact=contact,
        phone_number=contact.phone_number,
        direction="in",
        status="received",
        source="customer",
        text="halo",
    )

    listing = main_part(marketer_client.get(reverse("callbacks:chat"), **INDONESIAN))
    thread = main_part(
        marketer_client.get(reverse("callbacks:chat_conversation", args=[contact.pk]), **INDONESIAN)
    )

    # (Words the menu or other apps also use, such as "Chat panel", may come from their catalogue.)
    assert "Ditangani petugas" in listing and ">Belum ditugaskan</a>" in listing
    assert "Jendela 24 jam terbuka" in thread and "Kembalikan ke chatbot" in thread
    assert "Semua percakapan" in thread and "Ditugaskan ke" in thread
    # No English heading or button left
    for english in ("Chat panel", "With a person", "Unassigned", "24-hour window"):
        assert english not in listing + thread
    assert "Hand back to the chatbot" not in thread and "All conversations" not in thread


def test_an_empty_chat_panel_says_so_in_indonesian(marketer_client):
    page = main_part(marketer_client.get(reverse("callbacks:chat"), **INDONESIAN))

    assert "Belum ada pelanggan yang menulis." in page
    assert "No customer has written yet." not in page
