"""`manage.py project_bootstrap`: an operator's first project, with secrets from the environment."""

import json
from io import StringIO

from django.core.management import CommandError, call_command

import pytest

from projects.models import ApiKey, Integration, Membership, Project
from tests import factories

pytestmark = pytest.mark.django_db


def _bootstrap(monkeypatch, *args: str) -> dict:
    monkeypatch.setenv("WAPPIN_CLIENT_KEY", "client-key-from-env")
    monkeypatch.setenv("WAPPIN_SECRET_KEY", "secret-key-from-env")
    out = StringIO()
    call_command(
        "project_bootstrap",
        "--name",
        "My Shop",
        "--client-id",
        "0070",
        "--wappin-project-id",
        "476",
        "--json",
        *args,
        stdout=out,
    )
    return json.loads(out.getvalue())


def test_bootstrap_creates_the_project_its_integrations_and_admin(monkeypatch):
    admin = factories.UserFactory(username="ops")
    summary = _bootstrap(
        monkeypatch, "--admin", "ops", "--ip-whitelist", "10.0.0.5, 10.0.0.6", "--api-key", "first"
    )
    project = Project.objects.get(pk=summary["project"]["id"])
    assert Membership.objects.get(project=project, user=admin).role == Membership.Role.ADMIN
    integrations = {integration.kind: integration for integration in project.integrations.all()}
    assert set(integrations) == {Integration.Kind.NOTIFICATION, Integration.Kind.CHATBOT}
    for integration in integrations.values():
        assert integration.secret_key == "secret-key-from-env"
        assert integration.client_key == "client-key-from-env"
        assert integration.ip_whitelist == ["10.0.0.5", "10.0.0.6"]
    assert {entry["callback_url"] for entry in summary["integrations"]} == {
        integration.callback_url for integration in integrations.values()
    }
    assert (
        summary["api_key"].startswith("wp_") and ApiKey.objects.filter(project=project).count() == 1
    )
    # Secrets are never printed back.
    assert "secret-key-from-env" not in json.dumps(summary)


def test_bootstrap_twice_reuses_the_project(monkeypatch):
    first = _bootstrap(monkeypatch)
    second = _bootstrap(monkeypatch)
    assert first["project"]["id"] == second["project"]["id"]
    assert Project.objects.count() == 1 and Integration.objects.count() == 2


def test_bootstrap_refuses_an_unknown_admin(monkeypatch):
    with pytest.raises(CommandError, match="No user"):
        _bootstrap(monkeypatch, "--admin", "nobody")
