"""Password reset by e-mail: a link to a new password, and no way to learn who has an account."""

from __future__ import annotations

import re

from django.core import mail

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def _ask(client, email: str, **meta):
    return client.post("/accounts/password/reset/", {"email": email}, **meta)


def test_a_user_resets_a_forgotten_password_through_the_emailed_link(client, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    user = factories.UserFactory(email="budi@example.com")
    assert "/accounts/password/reset/" in client.get("/accounts/login/").content.decode()
    # Given a reset asked for the account's address (from a forged Host header)
    response = _ask(client, "budi@example.com", HTTP_HOST="localhost")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    # Then one e-mail goes there, its link on the portal's own address
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["budi@example.com"]
    link = re.search(
        r"https://portal\.example\.com(/accounts/password/reset/\S+/)", mail.outbox[0].body
    )
    assert link, mail.outbox[0].body
    # When the link is followed and a new password chosen
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase-9", "new_password2": "a-new-long-passphrase-9"},
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/done/"
    # Then the new password logs in, the old one not, and the link works no more
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase-9")
    again = client.get(link.group(1), follow=True)
    assert "does not work any more" in again.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    factories.UserFactory(email="budi@example.com")
    known = _ask(client, "budi@example.com")
    mail.outbox.clear()
    unknown = _ask(client, "nobody@example.com")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert mail.outbox == []
    page = client.get(unknown["Location"]).content.decode()
    assert "If an account uses that address" in page


def test_a_reset_password_still_asks_the_two_factor_code(client):
    from projects.models import AuthenticatorDevice

    user = factories.UserFactory()
    AuthenticatorDevice.objects.create(user=user, name="app", confirmed=True)
    user.set_password("a-new-long-passphrase-9")
    user.save()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "a-new-long-passphrase-9"}
    )
    assert response["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session
