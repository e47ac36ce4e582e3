"""The portal's language: the browser's by default, a person's choice from the header after."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_the_browsers_language_is_the_default(marketer_client):
    page = marketer_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="id-ID,id;q=0.9,en;q=0.5")
    assert '<html lang="id">' in page.content.decode()
    page = marketer_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="en">' in page.content.decode()


def test_the_header_switch_sets_the_language_and_it_is_remembered(marketer_client):
    page = marketer_client.get("/dashboard/").content.decode()
    assert 'action="/i18n/setlang/"' in page and '<option value="id" lang="id"' in page

    response = marketer_client.post("/i18n/setlang/", {"language": "id", "next": "/contacts/"})

    assert response.status_code == 302 and response["Location"] == "/contacts/"
    # Remembered over the browser's own language
    page = marketer_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="id">' in page.content.decode()


def test_an_unknown_language_is_ignored(marketer_client):
    marketer_client.post("/i18n/setlang/", {"language": "xx", "next": "/dashboard/"})
    assert '<html lang="en">' in marketer_client.get("/dashboard/").content.decode()


def test_the_log_in_and_error_pages_are_in_indonesian(client):
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    missing = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="id")

    assert "<h1>Masuk</h1>" in login and "Kata sandi" in login and "Lupa kata sandi?" in login
    assert "<h1>Log in</h1>" not in login and ">Password<" not in login
    assert missing.status_code == 404
    assert "<h1>Tidak ditemukan</h1>" in missing.content.decode()
    assert "Not found" not in missing.content.decode()


def test_the_header_and_menu_are_in_indonesian(marketer_client):
    page = marketer_client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="id").content.decode()

    for indonesian in (">Dasbor<", ">Template pesan<", ">Kontak<", ">Riwayat<", ">Keluar<"):
        assert indonesian in page
    for english in (">Dashboard<", ">Templates<", ">Contacts<", ">History<", ">Log out<"):
        assert english not in page


def test_a_user_with_no_project_reads_why_in_indonesian(client):
    client.force_login(factories.UserFactory())
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="id", follow=True).content.decode()

    assert "Belum ada proyek" in page and "No project yet" not in page


def test_an_unknown_api_url_is_answered_in_the_requests_language(api_client):
    english = api_client.get("/api/v1/nothing-here/")
    indonesian = api_client.get("/api/v1/nothing-here/", HTTP_ACCEPT_LANGUAGE="id")

    assert (english.json()["error"]["code"], english.json()["error"]["message"]) == (
        "not_found",
        "No API endpoint at /api/v1/nothing-here/.",
    )
    assert (indonesian.json()["error"]["code"], indonesian.json()["error"]["message"]) == (
        "not_found",
        "Tidak ada endpoint API di /api/v1/nothing-here/.",
    )
