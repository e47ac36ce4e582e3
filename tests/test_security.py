"""Security review: cross-project access, roles, secrets, web safety, login lock-out.

Each test names what an attacker (or a careless member) must not be able to do.
"""

from __future__ import annotations

from django.urls import resolve
from django.utils import timezone

import pytest

from messaging.models import Blast, ContactGroup, Message
from projects.models import Membership
from projects.services import api_key_create
from tests import factories

pytestmark = pytest.mark.django_db

SECRET_MARK = "OTHER-PROJECT-SECRET-MARK"


@pytest.fixture
def other():
    """Another project, full of rows whose text carries a mark that must never show up."""
    project = factories.ProjectFactory(name="Other Co")
    template = factories.TemplateFactory(project=project, name="other_secret_template")
    factories.TemplateLanguageFactory(template=template, body=f"{SECRET_MARK} {{{{1}}}}")
    keyword = factories.ChatbotKeywordFactory(project=project, response_text=SECRET_MARK)
    contact = factories.ContactFactory(
        project=project, name=SECRET_MARK, last_inbound_at=timezone.now()
    )
    message = factories.MessageFactory(project=project, contact=contact, text=SECRET_MARK)
    group = ContactGroup.objects.create(project=project, name=SECRET_MARK)
    blast = Blast.objects.create(
        project=project,
        name=SECRET_MARK,
        template=template,
        template_name=template.name,
        language_code="id",
        group=group,
    )
    return {
        "project": project,
        "template": template,
        "keyword": keyword,
        "contact": contact,
        "message": message,
        "blast": blast,
        "group": group,
    }


@pytest.fixture
def member_client(client, project):
    """An admin of `project` (not a superuser), who also must not reach `other`."""
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.ADMIN)
    client.force_login(user)
    return client


def _page_urls(other) -> list[tuple[str, str]]:
    t, k, c, m, b = (
        other[name].pk for name in ("template", "keyword", "contact", "message", "blast")
    )
    return [
        ("get", f"/templates/{t}/"),
        ("get", f"/templates/{t}/status/"),
        ("get", f"/templates/{t}/edit/"),
        ("post", f"/templates/{t}/edit/"),
        ("post", f"/templates/{t}/request-approval/"),
        ("post", f"/templates/{t}/approve/"),
        ("post", f"/templates/{t}/reject/"),
        ("post", f"/templates/{t}/deactivate/"),
        ("post", f"/templates/{t}/reactivate/"),
        ("post", f"/templates/{t}/delete/"),
        ("get", f"/templates/keywords/{k}/edit/"),
        ("post", f"/templates/keywords/{k}/edit/"),
        ("post", f"/templates/keywords/{k}/delete/"),
        ("get", f"/contacts/{c}/edit/"),
        ("post", f"/contacts/{c}/edit/"),
        ("get", f"/history/{m}/"),
        ("post", f"/history/{m}/refresh/"),
        ("get", f"/blasts/{b}/"),
        ("get", f"/blasts/{b}/progress/"),
        ("post", f"/blasts/{b}/start/"),
        ("post", f"/blasts/{b}/cancel/"),
        ("get", f"/callbacks/chat/{c}/"),
        ("post", f"/callbacks/chat/{c}/"),
        ("post", f"/callbacks/chat/{c}/hand-back/"),
        ("get", f"/callbacks/chat/{c}/thread/"),
        ("get", f"/callbacks/chat/{c}/template-preview/"),
        ("post", f"/callbacks/chat/{c}/assign/"),
    ]


def test_pages_with_another_projects_ids_answer_404_and_change_nothing(member_client, other):
    for method, url in _page_urls(other):
        resolve(url)  # a real route: a 404 here must come from the view, not from a typo
        response = getattr(member_client, method)(url, {"text": "hi", "name": "x", "reason": "x"})
        assert response.status_code == 404, (method, url, response.status_code)
        assert SECRET_MARK not in response.content.decode(), (method, url)
    other["template"].refresh_from_db()
    assert other["template"].status == "approved"
    assert other["blast"].status == Blast.Status.DRAFT
    assert Message.objects.filter(project=other["project"]).count() == 1


def test_lists_exports_and_forms_never_show_another_projects_rows(member_client, other):
    ids = other
    for url in (
        "/templates/",
        "/templates/keywords/",
        "/contacts/",
        "/contacts/export.csv",
        "/history/",
        "/history/export.csv",
        f"/history/?blast={ids['blast'].pk}",
        "/blasts/",
        "/callbacks/chat/",
        "/dashboard/",
        f"/history/test-send/?template={ids['template'].name}",
        f"/blasts/new/?template={ids['template'].name}",
        f"/contacts/?group={ids['group'].pk}",
        "/templates/chatbot-settings/",
    ):
        response = member_client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code in (200, 302), (url, response.status_code)
        assert SECRET_MARK.encode() not in body, url


def test_switching_to_a_project_one_is_not_a_member_of_changes_nothing(
    member_client, project, other
):
    member_client.post("/projects/switch/", {"project": other["project"].pk, "next": "/contacts/"})
    page = member_client.get("/contacts/").content.decode()
    assert SECRET_MARK not in page


def test_api_key_never_reaches_another_projects_rows(api_client, other):
    t, k, c, m = (other[name].pk for name in ("template", "keyword", "contact", "message"))
    calls = [
        ("get", f"/api/v1/templates/{t}/"),
        ("patch", f"/api/v1/templates/{t}/"),
        ("delete", f"/api/v1/templates/{t}/"),
        ("post", f"/api/v1/templates/{t}/request-approval/"),
        ("post", f"/api/v1/templates/{t}/preview/"),
        ("get", f"/api/v1/chatbot-keywords/{k}/"),
        ("patch", f"/api/v1/chatbot-keywords/{k}/"),
        ("delete", f"/api/v1/chatbot-keywords/{k}/"),
        ("get", f"/api/v1/messages/{m}/"),
        ("post", f"/api/v1/messages/{m}/refresh-status/"),
        ("get", f"/api/v1/contacts/{c}/"),
        ("patch", f"/api/v1/contacts/{c}/"),
        ("delete", f"/api/v1/contacts/{c}/"),
    ]
    for method, url in calls:
        response = getattr(api_client, method)(
            f"{url}?project={other['project'].pk}", {}, format="json"
        )
        assert response.status_code == 404, (method, url, response.status_code)
        assert SECRET_MARK not in response.content.decode()
    for url in (
        "/api/v1/templates/",
        "/api/v1/chatbot-keywords/",
        "/api/v1/messages/",
        "/api/v1/contacts/",
    ):
        # A key naming another project is told so (it was silently ignored before issue 11)
        response = api_client.get(url, {"project": other["project"].pk})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "project_not_found"
        assert SECRET_MARK not in response.content.decode(), url


def test_session_user_of_two_projects_cannot_name_a_third_in_the_api(client, project, other):
    user = factories.UserFactory()
    second = factories.ProjectFactory()
    for member_of in (project, second):
        factories.MembershipFactory(project=member_of, user=user, role=Membership.Role.ADMIN)
    client.force_login(user)
    response = client.get("/api/v1/messages/", {"project": other["project"].pk})
    assert response.status_code == 404
    response = client.get(f"/api/v1/messages/{other['message'].pk}/", {"project": project.pk})
    assert response.status_code == 404


def test_a_user_without_membership_sees_nothing(client, other):
    user = factories.UserFactory()
    client.force_login(user)
    for url in (
        "/dashboard/",
        "/templates/",
        "/contacts/",
        "/history/",
        "/callbacks/chat/",
        "/blasts/",
        f"/history/{other['message'].pk}/",
        "/api/v1/messages/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 403, 404), url
        assert SECRET_MARK not in response.content.decode(), url


def test_a_revoked_api_key_is_refused(project):
    from rest_framework.test import APIClient

    from projects.services import api_key_revoke

    created = api_key_create(project=project, name="old")
    api_key_revoke(api_key=created.api_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created.raw_key}")
    assert client.get("/api/v1/messages/").status_code == 401


@pytest.fixture
def own(project):
    template = factories.TemplateFactory(project=project, name="own_template", status="on_process")
    factories.TemplateLanguageFactory(template=template)
    contact = factories.ContactFactory(project=project, last_inbound_at=timezone.now())
    return {"template": template, "contact": contact}


def _client_with_role(client, project, role):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=role)
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Membership.Role.MARKETING, Membership.Role.DEVELOPER])
def test_only_admins_approve_or_reject_templates(client, project, own, role):
    client = _client_with_role(client, project, role)
    template = own["template"]
    client.post(f"/templates/{template.pk}/approve/")
    client.post(f"/templates/{template.pk}/reject/", {"reason": "no"})
    template.refresh_from_db()
    assert template.status == "on_process"


def test_developers_view_but_do_not_send_from_the_web_ui(client, project, own):
    client = _client_with_role(client, project, Membership.Role.DEVELOPER)
    contact = own["contact"]
    assert client.get("/history/").status_code == 200
    assert client.get("/contacts/").status_code == 200
    for url, data in (
        (
            "/history/test-send/",
            {"template": "own_template", "recipient_number": contact.phone_number},
        ),
        ("/blasts/new/", {"template": "own_template", "name": "x"}),
        (f"/callbacks/chat/{contact.pk}/", {"text": "hello"}),
        ("/contacts/new/", {"phone_number": "081234567890", "name": "x"}),
        (f"/contacts/{contact.pk}/edit/", {"phone_number": "081234567890", "name": "x"}),
        ("/contacts/import/", {}),
    ):
        response = client.post(url, data)
        assert response.status_code in (403, 404), (url, response.status_code)
    assert not Message.objects.filter(project=project).exists()
    assert not Blast.objects.filter(project=project).exists()


# --- Login lock-out (django-axes) ------------------------------------------------------------

PROXY = "10.0.0.2"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_USERNAME_FAILURE_LIMIT = 6
    return settings


@pytest.fixture
def axes_defaults(settings):
    """The lock-out with the limits production starts with (10 per address, 50 per account)."""
    from wappin_portal.settings import base

    settings.AXES_ENABLED = True
    assert (base.AXES_FAILURE_LIMIT, base.AXES_USERNAME_FAILURE_LIMIT) == (10, 50)
    settings.AXES_FAILURE_LIMIT = base.AXES_FAILURE_LIMIT
    settings.AXES_USERNAME_FAILURE_LIMIT = base.AXES_USERNAME_FAILURE_LIMIT
    return settings


def _login(client, username, password, **meta):
    return client.post("/accounts/login/", {"username": username, "password": password}, **meta)


def test_login_is_locked_out_after_repeated_failures(client, axes_on):
    user = factories.UserFactory(username="victim")
    for _ in range(3):
        _login(client, user.username, "wrong", REMOTE_ADDR="203.0.113.5")
    # The right password no longer helps from that address.
    response = _login(client, user.username, "correct horse battery", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_persons_failures_lock_out_nobody_else_at_that_address(client, axes_on):
    # Issue 10, finding 6: 10 bad passwords for one user locked every user of the address out
    colleague = factories.UserFactory(username="colleague")
    for _ in range(3):
        _login(client, "admin", "guess", REMOTE_ADDR="203.0.113.5")
    assert _login(client, "admin", "guess", REMOTE_ADDR="203.0.113.5").status_code == 429
    response = _login(
        client, colleague.username, "correct horse battery", REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(colleague.pk)


def test_guessing_one_account_from_many_addresses_is_locked_out_too(client, axes_on):
    # Issue 10, finding 6: nothing limited guessing one account from many addresses
    user = factories.UserFactory(username="victim")
    for n in range(6):
        _login(client, user.username, "wrong", REMOTE_ADDR=f"198.51.100.{n}")
    response = _login(client, user.username, "correct horse battery", REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_ten_bad_passwords_lock_only_that_account_at_that_address(client, axes_defaults):
    victim = factories.UserFactory(username="victim")
    colleague = factories.UserFactory(username="colleague")
    # Given 9 bad passwords for one account from one address, it still gets in
    for _ in range(9):
        assert _login(client, "victim", "wrong", REMOTE_ADDR="203.0.113.5").status_code == 200
    assert (
        _login(client, "victim", "correct horse battery", REMOTE_ADDR="203.0.113.5").status_code
        == 302
    )
    client.logout()
    # When 10 in a row fail (a success wiped the count)
    for _ in range(10):
        _login(client, "victim", "wrong", REMOTE_ADDR="203.0.113.5")
    # Then that account is locked out at that address...
    response = _login(client, "victim", "correct horse battery", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but not from another address, and nobody else is at that one
    response = _login(client, "victim", "correct horse battery", REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)
    client.logout()
    response = _login(client, "colleague", "correct horse battery", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(colleague.pk)


def test_one_account_guessed_from_many_addresses_stops_at_the_per_account_limit(
    client, axes_defaults
):
    factories.UserFactory(username="victim")
    # Given 49 bad passwords from 49 addresses (each under the per-address limit)
    for n in range(49):
        response = _login(client, "victim", "wrong", REMOTE_ADDR=f"198.51.{n // 200}.{n % 200 + 1}")
        assert response.status_code == 200, n
    # When the 50th comes from yet another address
    _login(client, "victim", "wrong", REMOTE_ADDR="192.0.2.50")
    # Then the account is locked out from every address, the right password too
    for address in ("192.0.2.51", "203.0.113.77"):
        response = _login(client, "victim", "correct horse battery", REMOTE_ADDR=address)
        assert response.status_code == 429, address
        assert "_auth_user_id" not in client.session


def test_a_forged_forwarded_for_does_not_escape_the_lock_out(client, axes_on):
    user = factories.UserFactory(username="victim")
    for n in range(3):
        _login(
            client,
            user.username,
            "wrong",
            REMOTE_ADDR="203.0.113.5",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    response = _login(
        client,
        user.username,
        "correct horse battery",
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_one_attacker_does_not_lock_everyone_out(client, axes_on):
    axes_on.IPWARE_TRUSTED_PROXY_LIST = [PROXY]
    axes_on.IPWARE_PROXY_COUNT = 1
    user = factories.UserFactory(username="colleague")
    # Given an attacker behind our proxy who is locked out
    for _ in range(3):
        _login(client, "admin", "guess", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert (
        _login(
            client, "admin", "guess", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5"
        ).status_code
        == 429
    )
    # When a colleague at another address logs in through the same proxy
    response = _login(
        client,
        user.username,
        "correct horse battery",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    # Then they get in
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_production_settings_keep_the_lock_out_and_safe_cookies():
    from tests.test_settings import PRODUCTION_ENV, _manage

    script = (
        "from django.conf import settings as s; import axes.conf; "
        "print(s.AXES_ENABLED, 'axes.middleware.AxesMiddleware' in s.MIDDLEWARE, "
        "s.AUTHENTICATION_BACKENDS[0] == 'axes.backends.AxesStandaloneBackend', s.AXES_CLIENT_IP_CALLABLE, "
        "s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS, "
        "'django.middleware.clickjacking.XFrameOptionsMiddleware' in s.MIDDLEWARE, s.DEBUG)"
    )
    result = _manage("shell", "--no-imports", "-c", script, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "True",
        "wappin_portal.client_ip.client_ip",
        "True",
        "True",
        "True",
        "DENY",
        "True",
        "False",
    ]


# --- Uploaded media -------------------------------------------------------------------------


@pytest.fixture
def media_files(project, other):
    from django.core.files.base import ContentFile

    own = factories.MessageFactory(project=project, kind="media", media_type="document", text="")
    own.media.save("invoice.pdf", ContentFile(b"%PDF-1.4 own"), save=True)
    theirs = factories.MessageFactory(
        project=other["project"], kind="media", media_type="document", text=""
    )
    theirs.media.save("invoice.pdf", ContentFile(b"%PDF-1.4 " + SECRET_MARK.encode()), save=True)
    keyword = other["keyword"]
    keyword.response_media.save(
        "promo.png", ContentFile(b"\x89PNG " + SECRET_MARK.encode()), save=True
    )
    other["blast"].media.save("header.pdf", ContentFile(b"%PDF " + SECRET_MARK.encode()), save=True)
    return {"own": own, "theirs": theirs, "keyword": keyword, "blast": other["blast"]}


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_member_downloads_their_projects_media_from_its_link(member_client, media_files):
    url = media_files["own"].media.url
    response = member_client.get(url)
    assert response.status_code == 200
    assert _body(response) == b"%PDF-1.4 own"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]


def test_another_projects_media_is_404_even_at_its_exact_path(member_client, media_files):
    for row, field in (("theirs", "media"), ("keyword", "response_media"), ("blast", "media")):
        url = getattr(media_files[row], field).url
        response = member_client.get(url)
        assert response.status_code == 404, url
        assert SECRET_MARK.encode() not in _body(response)


def test_media_needs_a_login_and_an_existing_row(client, media_files, settings):
    url = media_files["own"].media.url
    assert client.get(url).status_code == 302  # to the login page
    member = factories.UserFactory()
    factories.MembershipFactory(project=media_files["own"].project, user=member)
    client.force_login(member)
    # A file on disk that no row names (or a path that climbs out) is never served.
    (settings.MEDIA_ROOT / "stray.txt").write_text("stray")
    for path in ("stray.txt", "../settings.py", "messages/nothing.pdf"):
        assert client.get(f"{settings.MEDIA_URL}{path}").status_code == 404, path


def test_an_api_key_reads_its_own_projects_media_and_nothing_else(client, media_files, project):
    from projects.services import api_key_create

    key = api_key_create(project=project, name="media reader").raw_key
    own = client.get(media_files["own"].media.url, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert own.status_code == 200
    assert _body(own) == b"%PDF-1.4 own"
    theirs = client.get(
        media_files["keyword"].response_media.url, HTTP_AUTHORIZATION=f"Api-Key {key}"
    )
    assert theirs.status_code == 404
    assert SECRET_MARK.encode() not in _body(theirs)
    # a wrong key is no key: to the login page
    assert (
        client.get(media_files["own"].media.url, HTTP_AUTHORIZATION="Api-Key wp_wrong").status_code
        == 302
    )


# --- Web safety -------------------------------------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_user_and_customer_text_is_escaped_on_every_page(member_client, project):
    contact = factories.ContactFactory(project=project, name=XSS, last_inbound_at=timezone.now())
    message = factories.MessageFactory(
        project=project, contact=contact, text=f"*{XSS}*", caption=XSS
    )
    template = factories.TemplateFactory(project=project, name="xss_check")
    factories.TemplateLanguageFactory(
        template=template, body=f"_{XSS}_ ```{XSS}``` {{{{1}}}}", footer=XSS
    )
    factories.ChatbotKeywordFactory(project=project, response_text=XSS, keyword="xss")
    for url in (
        "/contacts/",
        f"/history/{message.pk}/",
        "/history/",
        "/callbacks/chat/",
        f"/callbacks/chat/{contact.pk}/",
        f"/templates/{template.pk}/",
        "/templates/keywords/",
        "/dashboard/",
    ):
        page = member_client.get(url).content.decode()
        assert "<script>" not in page and "<img src=x" not in page, url


def test_csv_exports_never_start_a_cell_with_a_formula(member_client, project):
    contact = factories.ContactFactory(
        project=project, name='=HYPERLINK("http://evil.example","x")'
    )
    factories.MessageFactory(project=project, contact=contact, text="@SUM(1+1)", direction="in")
    contacts = b"".join(member_client.get("/contacts/export.csv").streaming_content).decode()
    history = b"".join(member_client.get("/history/export.csv").streaming_content).decode()
    assert (
        "'=HYPERLINK" in contacts
        and ",=HYPERLINK" not in contacts
        and '"=HYPERLINK' not in contacts
    )
    assert "'@SUM" in history and ",@SUM" not in history


def test_posts_without_a_csrf_token_are_refused(project):
    from django.test import Client

    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=Membership.Role.ADMIN)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/contacts/new/", {"phone_number": "081234567890"}).status_code == 403
    assert client.post("/projects/switch/", {"project": project.pk}).status_code == 403
    response = client.post(
        "/api/v1/contacts/", {"phone_number": "081234567890"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not project.contacts.exists()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_project_switch_never_redirects_off_site(member_client, project, target):
    response = member_client.post("/projects/switch/", {"project": project.pk, "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_next_never_redirects_off_site(client):
    user = factories.UserFactory()
    response = client.post(
        "/accounts/login/?next=https://evil.example/",
        {"username": user.username, "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_pages_cannot_be_framed(member_client):
    assert member_client.get("/dashboard/")["X-Frame-Options"] == "DENY"


# --- Secrets ------------------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_on_the_page_and_never_put_in_a_cookie(admin_client, project):
    from projects.models import ApiKey, api_key_hash

    response = admin_client.post(
        "/admin/projects/apikey/add/", {"project": project.pk, "name": "ci"}
    )
    page = response.content.decode()
    api_key = ApiKey.objects.get(name="ci")
    raw_key = page.split("<code", 1)[1].split(">", 1)[1].split("</code>", 1)[0]
    assert response.status_code == 200 and "not shown again" in page
    assert api_key_hash(raw_key) == api_key.hashed_key
    assert "no-store" in response["Cache-Control"]
    assert "messages" not in response.cookies
    for name, cookie in response.cookies.items():
        assert raw_key not in cookie.value, name
    # Nor anywhere afterwards: the list, the object's page and its history.
    for url in (
        "/admin/projects/apikey/",
        f"/admin/projects/apikey/{api_key.pk}/change/",
        f"/admin/projects/apikey/{api_key.pk}/history/",
        "/admin/projects/auditevent/",
    ):
        assert raw_key not in admin_client.get(url).content.decode(), url


def test_a_member_changes_their_password_and_sessions_end_when_idle(client, settings):
    # Issue 10 (log-in): a password change page, and an idle timeout
    user = factories.UserFactory(username="member")
    user.set_password("old password 123!")
    user.save()
    client.force_login(user)
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "old password 123!",
            "new_password1": "a much better one 456?",
            "new_password2": "a much better one 456?",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password("a much better one 456?")
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 8 * 3600


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/templates/",
        "/contacts/",
        "/history/",
        "/blasts/",
        "/blasts/new/",
        "/api-keys/",
        "/callbacks/chat/",
        "/history/test-send/",
        "/api/docs/",
        "/accounts/password/",
    ],
)
def test_every_page_has_a_strict_script_policy_and_no_inline_script(admin_client, project, path):
    # Issue 10 (headers): a CSP with no unsafe-inline scripts, and a Permissions-Policy
    import re

    response = admin_client.get(path, follow=True)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    page = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert re.findall(r"\son[a-z]+\s*=", page) == []
