"""The portal's language: the browser's by default, a person's choice from the header after."""

from __future__ import annotations

import pytest

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
