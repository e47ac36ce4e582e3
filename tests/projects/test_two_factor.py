"""Two-factor log-in (django-otp): set-up, the code after the password, backup codes, turning
it off, the admins' requirement, and django-axes' lock-out on wrong codes.

Codes are computed from the device's key as an authenticator app would.
"""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp

from projects.models import (
    AuditEvent,
    AuthenticatorDevice,
    BackupCodeDevice,
    Membership,
    backup_code_digest,
)
from projects.two_factor.services import two_factor_backup_codes_replace, two_factor_verify
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_throttle_delay(settings):
    """django-otp makes a device wait 1, 2, 4... s after each wrong code; these tests type the
    right one straight after a wrong one (the delay is django-otp's own, tested there)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _code(device: AuthenticatorDevice, *, steps_ahead: int = 0) -> str:
    """The app's code now (or `steps_ahead` 30-second steps later: a code is accepted once)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0 - steps_ahead * device.step, device.digits):0{device.digits}d}"


def _enrolled(user) -> tuple[AuthenticatorDevice, list[str]]:
    device = AuthenticatorDevice.objects.create(user=user, name="app", confirmed=True)
    return device, two_factor_backup_codes_replace(user=user)


def _shown_codes(response) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())


def _stored_text(secrets: list[str]) -> list[str]:
    """Which of `secrets` the two-factor tables hold in clear (read with raw SQL)."""
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        for table in (AuthenticatorDevice._meta.db_table, "projects_backupcode"):
            cursor.execute(f"SELECT * FROM {table}")
            rows = " ".join(str(value) for row in cursor.fetchall() for value in row)
            found += [secret for secret in secrets if secret in rows]
    return found


def _password_step(client, user, **meta):
    return client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}, **meta
    )


def _logged_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


def test_a_user_sets_up_an_authenticator_by_scanning_and_confirming_a_code(client):
    user = factories.UserFactory()
    client.force_login(user)
    # Given the set-up page with its QR code (drawn here, as an image the CSP lets in)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in body
    assert "data:" in re.search(r"img-src ([^;]*)", page["Content-Security-Policy"]).group(1)
    assert page["Cache-Control"] == "no-store"
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    # When a wrong code is typed, nothing changes
    wrong = client.post("/accounts/two-factor/", {"token": "000000"})
    assert "That code is not right" in wrong.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
    # When the app's code is typed
    done = client.post("/accounts/two-factor/", {"token": _code(device)})
    # Then two-factor is on, ten single-use backup codes are shown once, and it is audited
    assert done.status_code == 200
    assert done["Cache-Control"] == "no-store"
    codes = _shown_codes(done)
    assert len(set(codes)) == 10
    # Stored as digests only: no code, and no authenticator secret, in clear in the database
    device = AuthenticatorDevice.objects.get(user=user)
    assert sorted(
        BackupCodeDevice.objects.get(user=user).codes.values_list("digest", flat=True)
    ) == sorted(backup_code_digest(code) for code in codes)
    assert _stored_text(codes + [device.key]) == []
    assert AuthenticatorDevice.objects.get(user=user).confirmed
    assert AuditEvent.objects.filter(action="two_factor.enable", actor=user).exists()
    assert "is on" in client.get("/accounts/two-factor/").content.decode()


def test_log_in_asks_the_code_after_the_password_of_an_enrolled_user(client):
    user = factories.UserFactory()
    device, _ = _enrolled(user)
    # Given the right password
    response = _password_step(client, user)
    # Then the code is asked, and the user is not logged in yet
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/"
    assert _logged_in_as(client) is None
    assert client.get("/dashboard/").status_code == 302
    # When a wrong code is given, still not
    wrong = client.post("/accounts/login/code/", {"token": "123456"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    assert _logged_in_as(client) is None
    # When the app's code is given
    response = client.post("/accounts/login/code/", {"token": _code(device)})
    # Then the user is in, and the session says it gave a code
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert _logged_in_as(client) == str(user.pk)
    assert client.session["otp_device_id"] == device.persistent_id
    assert client.get("/dashboard/").status_code == 200


def test_a_user_without_an_authenticator_logs_in_with_the_password_alone(client):
    user = factories.UserFactory()
    response = _password_step(client, user)
    assert response.status_code == 302
    assert _logged_in_as(client) == str(user.pk)


def test_the_code_page_without_a_right_password_first_sends_to_log_in(client):
    response = client.post("/accounts/login/code/", {"token": "123456"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert _logged_in_as(client) is None


def test_a_backup_code_logs_in_once(client):
    user = factories.UserFactory()
    _, codes = _enrolled(user)
    _password_step(client, user)
    assert client.post("/accounts/login/code/", {"token": codes[0]}).status_code == 302
    assert _logged_in_as(client) == str(user.pk)
    client.logout()
    # The same code a second time does not work
    _password_step(client, user)
    response = client.post("/accounts/login/code/", {"token": codes[0]})
    assert response.status_code == 200
    assert _logged_in_as(client) is None
    assert BackupCodeDevice.objects.get(user=user).codes.count() == 9


def test_a_code_is_accepted_only_once(client):
    user = factories.UserFactory()
    device, _ = _enrolled(user)
    code = _code(device)
    _password_step(client, user)
    client.post("/accounts/login/code/", {"token": code})
    client.logout()
    _password_step(client, user)
    assert client.post("/accounts/login/code/", {"token": code}).status_code == 200
    assert _logged_in_as(client) is None


def _verified_client(client, user, device):
    _password_step(client, user)
    client.post("/accounts/login/code/", {"token": _code(device)})
    assert _logged_in_as(client) == str(user.pk)
    return client


def test_turning_two_factor_off_needs_the_password_and_a_code(client):
    user = factories.UserFactory()
    device, _ = _enrolled(user)
    _verified_client(client, user, device)
    # A wrong password, or a wrong code, leaves it on
    response = client.post(
        "/accounts/two-factor/disable/",
        {"password": "nope", "token": _code(device, steps_ahead=1)},
    )
    assert response.status_code == 400
    assert "password is not right" in response.content.decode()
    response = client.post("/accounts/two-factor/disable/", {"password": PASSWORD, "token": "1"})
    assert response.status_code == 400
    assert AuthenticatorDevice.objects.filter(user=user).exists()
    # Both right: off, audited, and the next log-in asks the password only
    response = client.post(
        "/accounts/two-factor/disable/",
        {"password": PASSWORD, "token": _code(device, steps_ahead=1)},
    )
    assert response.status_code == 302
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert not BackupCodeDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="two_factor.disable", actor=user).exists()
    client.logout()
    _password_step(client, user)
    assert _logged_in_as(client) == str(user.pk)


def test_new_backup_codes_replace_the_old_ones(client):
    user = factories.UserFactory()
    device, old_codes = _enrolled(user)
    _verified_client(client, user, device)
    response = client.post(
        "/accounts/two-factor/backup-codes/", {"token": _code(device, steps_ahead=1)}
    )
    assert response.status_code == 200
    new_codes = _shown_codes(response)
    assert len(set(new_codes)) == 10
    assert not set(old_codes) & set(new_codes)
    assert two_factor_verify(user=user, token=old_codes[1]) is None
    assert two_factor_verify(user=user, token=new_codes[1]) is not None


def test_a_session_from_before_the_set_up_must_log_in_again_with_a_code(client):
    user = factories.UserFactory()
    client.force_login(user)  # logged in with the password alone
    _enrolled(user)  # then two-factor was switched on (from another session)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert _logged_in_as(client) is None


# --- REQUIRE_2FA_FOR_ADMINS -----------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA_FOR_ADMINS = True
    return settings


def test_when_required_an_admin_without_an_authenticator_is_sent_to_set_one_up(
    client, project, required
):
    admin = factories.UserFactory()
    factories.MembershipFactory(project=project, user=admin, role=Membership.Role.ADMIN)
    _password_step(client, admin)
    for url in ("/dashboard/", "/contacts/", "/api-keys/", "/accounts/password/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/accounts/two-factor/", url
    assert client.get("/api/v1/contacts/").status_code == 403
    # Once set up, the admin goes anywhere
    assert client.get("/accounts/two-factor/").status_code == 200
    device = AuthenticatorDevice.objects.get(user=admin, confirmed=False)
    client.post("/accounts/two-factor/", {"token": _code(device)})
    assert client.get("/dashboard/").status_code == 200


def test_when_required_other_roles_still_choose(client, project, marketer, required):
    _password_step(client, marketer)
    assert client.get("/dashboard/").status_code == 200


def test_when_not_required_an_admin_without_an_authenticator_goes_anywhere(client, project):
    admin = factories.UserFactory()
    factories.MembershipFactory(project=project, user=admin, role=Membership.Role.ADMIN)
    _password_step(client, admin)
    assert client.get("/dashboard/").status_code == 200


# --- with django-axes -----------------------------------------------------------------------


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(client, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    user = factories.UserFactory()
    device, _ = _enrolled(user)
    meta = {"REMOTE_ADDR": "203.0.113.5"}
    _password_step(client, user, **meta)
    # Given three wrong codes after the right password
    responses = [
        client.post("/accounts/login/code/", {"token": "000000"}, **meta) for _ in range(3)
    ]
    assert [r.status_code for r in responses] == [200, 200, 429]
    # Then even the right password and code get no further from that address
    assert _password_step(client, user, **meta).status_code == 429
    response = client.post("/accounts/login/code/", {"token": _code(device)}, **meta)
    assert response.status_code in (302, 429)
    assert _logged_in_as(client) is None


def test_the_admins_own_log_in_form_does_not_skip_the_code(client):
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    _enrolled(superuser)
    client.post("/admin/login/", {"username": superuser.username, "password": PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert _logged_in_as(client) is None
