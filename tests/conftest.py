"""Fixtures every test may use. The autouse guard keeps the suite away from the real Wappin."""

from __future__ import annotations

import os
import socket

import pytest

from tests import factories

REAL_WAPPIN_HOSTS = {"api.wappin.id", "wappin.id"}


@pytest.fixture(autouse=True)
def _forbid_real_wappin(monkeypatch):
    """Fail any test that would resolve the real api.wappin.id (the sandbox is the only Wappin here)."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        name = (host.decode() if isinstance(host, bytes) else str(host or "")).lower().rstrip(".")
        if name in REAL_WAPPIN_HOSTS or name.endswith(".wappin.id"):
            raise AssertionError(
                f"A test tried to reach the real Wappin API ({name}); use the sandbox."
            )
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty shared cache (counters, wake keys, cached integrations)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(db):
    return factories.ProjectFactory()


@pytest.fixture
def admin_user(db, project):
    user = factories.UserFactory(is_staff=True, is_superuser=True)
    factories.MembershipFactory(project=project, user=user, role="admin")
    return user


@pytest.fixture
def marketer(db, project):
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role="marketing")
    return user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def api_key(db, project):
    """A (raw key, ApiKey) pair for `Authorization: Api-Key <raw>`."""
    from projects.services import api_key_create

    created = api_key_create(project=project, name="tests")
    return created.raw_key, created.api_key


@pytest.fixture
def api_client(api_key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[0]}")
    return client


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the session (Playwright driving Debian's chromium)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_or_skip

    executable = chromium_or_skip()
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM
    # calls are still synchronous, so Django's async guard does not apply.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def logged_in_page(page, live_server, admin_user):
    """A browser page logged in as an admin of `project`, on the live server."""
    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(admin_user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = admin_user.get_session_auth_hash()
    session.save()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    return page


@pytest.fixture(scope="session")
def _wappin_sandbox_url(tmp_path_factory):
    """The Wappin sandbox's address: the one in WAPPIN_SANDBOX_URL if the environment sets it
    (a sandbox someone started, e.g. for the worker tests), else a process started for the session."""
    external = os.environ.get("WAPPIN_SANDBOX_URL", "").strip()
    if external:
        yield external.rstrip("/")
        return
    from tests.wappin_sandbox import SandboxProcess

    process = SandboxProcess(tmp_path_factory.mktemp("wappin-sandbox") / "world.json")
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture
def wappin_sandbox(_wappin_sandbox_url, settings):
    """The Wappin sandbox, reset, with WAPPIN_BASE_URL and WAPPIN_SANDBOX_URL pointed at it.

    Its world starts empty: `wappin_sandbox.register(integration)` adds the integration's
    client, secret key, IP whitelist, callback URLs and approved templates. See
    `tests/wappin_sandbox.py` for `.add_template`, `.knobs`, `.sent`, `.callbacks`,
    `.revoke_token`, `.customer_message`. Callbacks are off until `.knobs(callbacks_enabled=True)`.
    """
    from tests.wappin_sandbox import WappinSandbox

    settings.WAPPIN_BASE_URL = _wappin_sandbox_url
    settings.WAPPIN_SANDBOX_URL = _wappin_sandbox_url
    sandbox = WappinSandbox(_wappin_sandbox_url)
    sandbox.reset()
    yield sandbox
    # Before pytest-django flushes the database (this teardown runs first).
    sandbox.quiesce()


def pytest_sessionfinish(session, exitstatus):
    """Remove this run's embedded-broker file (the test database is removed by pytest-django)."""
    from django.conf import settings as django_settings

    url = getattr(django_settings, "CELERY_BROKER_URL", "") or ""
    if url.startswith("sqla+sqlite:///"):
        path = url.removeprefix("sqla+sqlite:///")
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
