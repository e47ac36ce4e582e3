"""Fixtures every test may use. The autouse guard keeps the suite away from the real Wappin."""

from __future__ import annotations

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
            raise AssertionError(f"A test tried to reach the real Wappin API ({name}); use the sandbox.")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


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
