"""`manage.py seed_demo`: the demo `make run` starts with; refused under production settings."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command

import pytest

from messaging.models import ContactGroup
from projects.models import Integration, Project

ROOT = Path(__file__).resolve().parent.parent.parent


pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_what_it_made():
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    assert "Demo data created" in first.getvalue()
    assert "nothing to create" in second.getvalue()
    assert Project.objects.count() == 1
    assert Integration.objects.count() == 2
    # a group of contacts, so a newcomer can try a blast
    assert ContactGroup.objects.get(name="Pelanggan setia").contacts.count() == 4


def test_seed_demo_json_gives_login_ids_callback_urls_and_a_working_api_key(client):
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["login"]["username"] == "admin"
    assert summary["project"]["client_id"] == "0070"
    assert all("/callbacks/wappin/" in i["callback_url"] for i in summary["integrations"])
    response = client.get(
        "/api/schema/?format=json", HTTP_AUTHORIZATION=f"Api-Key {summary['api_key']}"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("command", ["seed_demo", "sandbox_world"])
def test_development_commands_refuse_production_settings_with_a_clear_message(command, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.production",
        "SECRET_KEY": "production-like-secret-" + "x" * 40,
        "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktZm9yLXRoZS1zdWl0ZS0zMmJ5dGVzISE=",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",  # never reached: the command stops first
        "CACHE_URL": "locmemcache://",
        "ALLOWED_HOSTS": "portal.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{command} is a development command" in result.stderr
    assert "wappin_portal.settings.local" in result.stderr
    assert result.stdout == ""
