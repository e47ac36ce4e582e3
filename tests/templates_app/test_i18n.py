"""The template and chatbot pages in Bahasa Indonesia when the browser asks for it."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

INDONESIAN = {"HTTP_ACCEPT_LANGUAGE": "id-ID,id;q=0.9"}


def main_part(response) -> str:
    """The page's own content: the header and menu are the portal's (wappin_portal's catalogue)."""
    page = response.content.decode()
    return page[page.index('<main class="container"') : page.index("</main>")]


def test_template_pages_speak_indonesian(marketer_client, project):
    template = factories.TemplateFactory(project=project, name="order_shipped", status="draft")
    factories.TemplateLanguageFactory(template=template)

    listing = main_part(marketer_client.get("/templates/", **INDONESIAN))
    detail = main_part(marketer_client.get(f"/templates/{template.pk}/", **INDONESIAN))
    form = main_part(marketer_client.get("/templates/new/", **INDONESIAN))

    # (Words the menu or other apps also use, such as "Templates", may come from their catalogue.)
    assert "Template baru" in listing and ">Draf</span>" in listing
    assert "Jenis pesan" in listing and "Utilitas" in listing
    assert "Ajukan persetujuan" in detail and "Riwayat status" in detail
    assert "Template notifikasi baru" in form and "Nama template" in form
    # No English heading or button left
    for english in ("<h1>Templates", "New template", "Status history", "Request approval"):
        assert english not in listing + detail
    assert "New notification template" not in form and "Save draft" not in form


def test_chatbot_pages_speak_indonesian(marketer_client, project):
    factories.ChatbotKeywordFactory(project=project, keyword="promo", response_text="Diskon!")

    listing = main_part(marketer_client.get("/templates/keywords/", **INDONESIAN))

    assert "<h1>Kata kunci chatbot" in listing and "Kata kunci baru" in listing
    assert "Pesan pelanggan memicu kata kunci" in listing and "Skenario" in listing
    assert "Chatbot keywords" not in listing and "New keyword" not in listing


def test_a_rule_broken_on_the_form_is_explained_in_indonesian(marketer_client, project):
    response = marketer_client.post(
        "/templates/new/",
        {
            "name": "promo_gap",
            "message_type": "marketing",
            "languages-TOTAL_FORMS": "1",
            "languages-INITIAL_FORMS": "0",
            "languages-MIN_NUM_FORMS": "1",
            "languages-MAX_NUM_FORMS": "1000",
            "languages-0-language_code": "id",
            "languages-0-header_type": "none",
            "languages-0-body": "Halo {{2}}",
        },
        **INDONESIAN,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Variabel harus dinomori mulai dari {{1}} tanpa terlewat: {{1}} tidak ada." in page


def test_the_api_explains_in_the_requests_language_and_keeps_its_codes(api_client):
    bad = {"name": "Bad Name", "languages": [{"language_code": "id", "body": "Halo"}]}

    english = api_client.post("/api/v1/templates/", bad, format="json").json()
    indonesian = api_client.post(
        "/api/v1/templates/", bad, format="json", HTTP_ACCEPT_LANGUAGE="id"
    ).json()

    assert english["error"]["code"] == indonesian["error"]["code"] == "template_invalid"
    assert english["error"]["fields"]["name"] == [
        "Use lowercase letters, digits and '_' only, e.g. opening_message1."
    ]
    assert indonesian["error"]["fields"]["name"] == [
        "Gunakan hanya huruf kecil, angka, dan '_', misalnya opening_message1."
    ]
