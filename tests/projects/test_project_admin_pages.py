"""A project's own admin manages its members and integrations and reads its audit log in the
portal, without Django's admin or global staff rights; every change is audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.utils import timezone

import pytest

from projects.models import ApiKey, AuditEvent, Integration, Membership
from projects.services import api_key_create, audit_record
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(project):
    user = factories.UserFactory(username="boss")
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def boss_client(client, boss):
    client.force_login(boss)
    return client


def _events(project, action):
    return list(
        AuditEvent.objects.filter(project=project, action=action).values_list(
            "actor__username", "target", "data"
        )
    )


# --- members ---------------------------------------------------------------------------


def test_an_admin_adds_an_existing_user_by_name_or_email_with_a_role(boss_client, project):
    factories.UserFactory(username="rina")
    factories.UserFactory(username="budi", email="Budi@Example.com")

    boss_client.post("/project/members/", {"user": "rina", "role": "viewer"})
    response = boss_client.post(
        "/project/members/", {"user": "budi@example.com", "role": "marketing"}, follow=True
    )

    roles = dict(Membership.objects.filter(project=project).values_list("user__username", "role"))
    assert roles == {"boss": "admin", "rina": "viewer", "budi": "marketing"}
    assert "budi is now a member (Marketing)." in response.content.decode()
    assert ("boss", "rina", {"role": "viewer", "previous_role": None}) in _events(
        project, "membership.set"
    )


def test_an_unknown_user_or_a_member_already_is_refused_on_the_form(boss_client, project, boss):
    page = boss_client.post("/project/members/", {"user": "nobody", "role": "viewer"})
    assert "No active user nobody: they need an account first" in page.content.decode()
    page = boss_client.post("/project/members/", {"user": "boss", "role": "viewer"})
    assert "boss is already a member of" in page.content.decode()
    page = boss_client.post("/project/members/", {"user": "boss", "role": "owner"})
    assert "Select a valid choice." in page.content.decode()
    assert Membership.objects.filter(project=project).count() == 1
    assert not AuditEvent.objects.filter(action="membership.set").exists()


def test_an_admin_changes_a_role_audited_with_the_one_before(boss_client, project):
    member = factories.MembershipFactory(project=project, role="marketing")

    boss_client.post(f"/project/members/{member.pk}/role/", {"role": "viewer"})

    member.refresh_from_db()
    assert member.role == "viewer"
    assert _events(project, "membership.set") == [
        ("boss", str(member.user), {"role": "viewer", "previous_role": "marketing"})
    ]


def test_the_last_admin_cannot_step_down_or_be_removed(boss_client, project, boss):
    own = Membership.objects.get(project=project, user=boss)

    response = boss_client.post(f"/project/members/{own.pk}/role/", {"role": "viewer"}, follow=True)
    assert "boss is the last admin of" in response.content.decode()
    response = boss_client.post(f"/project/members/{own.pk}/remove/", follow=True)
    assert "boss is the last admin of" in response.content.decode()

    own.refresh_from_db()
    assert own.role == "admin"


def test_the_removal_page_names_the_keys_it_revokes_and_removing_revokes_them(boss_client, project):
    # Given a developer with two live keys and a revoked one, and a key of someone else
    developer = factories.MembershipFactory(project=project, role="developer")
    live = [
        api_key_create(project=project, name=name, created_by=developer.user).api_key
        for name in ("order service", "crm sync")
    ]
    old = api_key_create(project=project, name="old one", created_by=developer.user).api_key
    old.revoked_at = timezone.now()
    old.save()
    others = api_key_create(project=project, name="ops key").api_key

    # When the admin opens the removal page
    page = boss_client.get(f"/project/members/{developer.pk}/remove/").content.decode()

    # Then it says which keys go with the removal
    assert "These 2 API keys they created are revoked with the removal" in page
    assert "order service" in page and "crm sync" in page
    assert "old one" not in page and "ops key" not in page

    # And removing does it, audited
    boss_client.post(f"/project/members/{developer.pk}/remove/")
    assert not Membership.objects.filter(pk=developer.pk).exists()
    assert all(ApiKey.objects.get(pk=key.pk).revoked_at for key in live)
    assert ApiKey.objects.get(pk=others.pk).revoked_at is None
    assert _events(project, "membership.remove") == [
        ("boss", str(developer.user), {"role": "developer"})
    ]
    assert len(_events(project, "api_key.revoke")) == 2


def test_a_member_of_another_project_is_not_found(boss_client):
    stranger = factories.MembershipFactory(role="marketing")
    assert boss_client.get(f"/project/members/{stranger.pk}/remove/").status_code == 404
    assert boss_client.post(f"/project/members/{stranger.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=stranger.pk).exists()


# --- integrations ----------------------------------------------------------------------


@pytest.fixture
def integration(project):
    integration = factories.IntegrationFactory(
        project=project,
        client_key="client-key-value-123",
        secret_key="secret-key-value-456",
        access_token="token-value-789",
        token_expires_at=timezone.now() + timedelta(hours=20),
    )
    return integration


def test_the_integrations_page_shows_token_expiry_and_never_a_secret(boss_client, integration):
    for url in ("/project/integrations/", f"/project/integrations/{integration.pk}/"):
        page = boss_client.get(url).content.decode()
        local = timezone.localtime(integration.credential.token_expires_at)
        assert local.strftime("%Y-%m-%d %H:%M") in page
        for secret in ("client-key-value-123", "secret-key-value-456", "token-value-789"):
            assert secret not in page


def _form(integration, **changes) -> dict:
    data = {
        "is_active": "on",
        "callback_url": integration.callback_url,
        "max_messages_per_second": "80",
        "ip_whitelist": "127.0.0.1",
        "callback_ip_allowlist": "",
        "client_key": "",
        "secret_key": "",
    }
    data.update(changes)
    return data


def test_an_admin_edits_the_allow_list_audited_before_and_after(boss_client, project, integration):
    response = boss_client.post(
        f"/project/integrations/{integration.pk}/",
        _form(integration, callback_ip_allowlist="203.0.113.7\n10.0.0.0/24"),
    )

    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.callback_ip_allowlist == ["203.0.113.7", "10.0.0.0/24"]
    assert integration.secret_key == "secret-key-value-456"  # empty keeps the stored one
    [(actor, _target, data)] = _events(project, "integration.update")
    assert actor == "boss"
    assert data["before"]["callback_ip_allowlist"] == []
    assert data["after"]["callback_ip_allowlist"] == ["203.0.113.7", "10.0.0.0/24"]
    assert data["secrets_changed"] == []


def test_a_bad_address_or_url_is_refused_on_its_field(boss_client, integration):
    page = boss_client.post(
        f"/project/integrations/{integration.pk}/",
        _form(integration, callback_ip_allowlist="not-an-ip", callback_url="ftp://x"),
    ).content.decode()

    assert "&#x27;not-an-ip&#x27; is not an IP address" in page
    assert "The callback URL must start with https://" in page
    integration.refresh_from_db()
    assert integration.callback_ip_allowlist == []
    assert not AuditEvent.objects.filter(action="integration.update").exists()


def test_a_new_secret_key_replaces_the_stored_one_and_leaves_the_old_clients_token(
    boss_client, project, integration
):
    old_credential = integration.credential
    boss_client.post(
        f"/project/integrations/{integration.pk}/", _form(integration, secret_key=" new-secret ")
    )

    integration = Integration.objects.get(pk=integration.pk)
    assert integration.secret_key == "new-secret"
    # A token is its Wappin client's: the new key is another client row, with no token yet
    assert integration.credential != old_credential
    assert integration.credential.access_token == ""
    assert integration.credential.token_expires_at is None
    [(_actor, _target, data)] = _events(project, "integration.update")
    assert data["secrets_changed"] == ["secret_key"]
    assert "new-secret" not in str(data)


def test_another_projects_integration_is_not_found(boss_client):
    theirs = factories.IntegrationFactory()
    assert boss_client.get(f"/project/integrations/{theirs.pk}/").status_code == 404


# --- the audit log ---------------------------------------------------------------------


def test_the_audit_log_filters_by_action_actor_and_dates_and_pages(boss_client, project, boss):
    # Given 60 contact events by the admin today, one by someone else, one a month ago
    other = factories.UserFactory(username="siti")
    for number in range(60):
        audit_record(action="contact.update", project=project, actor=boss, target=f"c{number}")
    audit_record(action="blast.start", project=project, actor=other, target="June promo")
    old = audit_record(action="contact.delete", project=project, actor=boss, target="gone")
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    audit_record(action="contact.update", project=factories.ProjectFactory(), target="theirs")

    # When the admin reads the log, then filters it
    first = boss_client.get("/project/audit/").content.decode()
    second = boss_client.get("/project/audit/?page=2").content.decode()
    by_siti = boss_client.get(f"/project/audit/?actor={other.pk}").content.decode()
    blasts = boss_client.get("/project/audit/?action=blast").content.decode()
    today = timezone.localdate().isoformat()
    recent = boss_client.get(f"/project/audit/?date_from={today}&action=contact").content.decode()

    # Then each shows what it should
    assert "Page 1 of 2 · 62 events" in first
    assert "Page 2 of 2" in second and "gone" in second
    assert "June promo" in by_siti and "c1<" not in by_siti
    assert "June promo" in blasts and "<code>contact.update</code>" not in blasts
    assert "60 events" in recent and "gone" not in recent
    assert "theirs" not in first + second


def test_dates_the_wrong_way_round_are_refused(boss_client):
    page = boss_client.get("/project/audit/?date_from=2026-05-02&date_to=2026-05-01")
    assert "The start date is after the end date." in page.content.decode()


def test_the_audit_export_is_filtered_and_formula_safe(boss_client, project, boss):
    audit_record(action="contact.update", project=project, actor=boss, target="=HYPERLINK(1)")
    audit_record(action="blast.start", project=project, actor=boss, target=" +cmd|x")

    response = boss_client.get("/project/audit/export.csv?action=contact")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["time", "action", "actor", "api_key", "target", "data"]
    assert [row[1:5] for row in rows[1:]] == [["contact.update", "boss", "", "'=HYPERLINK(1)"]]


def test_only_admins_read_the_audit_log(client, project):
    for role in ("marketing", "developer", "viewer"):
        user = factories.UserFactory()
        factories.MembershipFactory(project=project, user=user, role=role)
        client.force_login(user)
        assert client.get("/project/audit/").status_code == 403
        assert client.get("/project/audit/export.csv").status_code == 403


# --- menus -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("admin", ["/api-keys/", "/project/members/", "/blasts/"], []),
        ("marketing", ["/blasts/", "/callbacks/chat/"], ["/api-keys/", "/project/"]),
        ("developer", ["/api-keys/"], ["/blasts/", "/callbacks/chat/", "/project/"]),
        ("viewer", ["/blasts/", "/contacts/"], ["/api-keys/", "/project/"]),
    ],
)
def test_menus_show_only_what_the_role_may_open(client, project, role, shown, hidden):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=role)
    client.force_login(user)
    page = client.get("/dashboard/").content.decode()
    nav = page[page.index('<nav class="mainnav"') : page.index("</nav>")]
    for url in shown:
        assert f'href="{url}' in nav, url
    for url in hidden:
        assert f'href="{url}' not in nav, url
