"""`manage.py sandbox_world`: the sandbox's world from the database, as `make run` writes it."""

from __future__ import annotations

import json
import stat

from django.core.management import call_command

from messaging.wappin import WappinClient
from projects.models import Integration
from sandbox.portal.demo import DEMO_CLIENT_ID, DEMO_PROJECT_ID, DEMO_TEMPLATE, demo_seed
from templates_app.models import Template
from tests import factories
from tests.messaging.wappin.conftest import GOOD_NUMBER


def test_sandbox_world_writes_clients_projects_callbacks_and_approved_templates(
    db, tmp_path, settings
):
    # Given the demo, a draft template, and an integration without credentials
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8123"
    world = demo_seed()
    factories.TemplateFactory(project=world.project, name="draft_one", status=Template.Status.DRAFT)
    factories.IntegrationFactory(project=factories.ProjectFactory(client_id="0999"), secret_key="")
    output = tmp_path / "var" / "sandbox-world.json"

    call_command("sandbox_world", output=str(output))

    data = json.loads(output.read_text())
    notification = Integration.objects.get(
        project=world.project, kind=Integration.Kind.NOTIFICATION
    )
    chatbot = Integration.objects.get(project=world.project, kind=Integration.Kind.CHATBOT)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert data["timezone"] == settings.WAPPIN_TOKEN_TIMEZONE
    assert list(data["clients"]) == [DEMO_CLIENT_ID]
    assert data["clients"][DEMO_CLIENT_ID]["secret_key"] == notification.secret_key
    assert data["clients"][DEMO_CLIENT_ID]["ip_whitelist"] == ["127.0.0.1", "::1"]
    project = data["projects"][DEMO_PROJECT_ID]
    assert project["client_id"] == DEMO_CLIENT_ID
    assert project["notification_callback_url"] == notification.callback_url
    assert project["chatbot_callback_url"] == chatbot.callback_url
    assert project["callback_url"].startswith("http://127.0.0.1:8123/callbacks/wappin/")
    assert project["templates"] == {
        DEMO_TEMPLATE: {
            "active": True,
            "languages": ["id", "en"],
            "param_count": 3,
            "header_param": True,
        }
    }


def test_the_written_world_is_one_the_sandbox_takes_and_serves(db, tmp_path, wappin_sandbox):
    # Given the demo's world loaded into the running sandbox
    world = demo_seed()
    output = tmp_path / "world.json"
    call_command("sandbox_world", output=str(output))
    wappin_sandbox.admin("PUT", "world", json.loads(output.read_text()))

    # When the portal sends the demo template through it
    integration = Integration.objects.get(project=world.project, kind=Integration.Kind.NOTIFICATION)
    result = WappinClient(integration).send_hsm(
        recipient_number=GOOD_NUMBER,
        template_name=DEMO_TEMPLATE,
        params={"1": "Budi", "2": "INV-1", "3": "besok"},
        header_param="INV-1",
    )

    # Then the sandbox accepted it in the template's first language
    [sent] = wappin_sandbox.sent(message_id=result.message_id)
    assert sent["language_code"] == "id"


def test_register_adds_one_integration_without_touching_the_others(wappin_sandbox, project):
    first = factories.IntegrationFactory(project=project)
    second = factories.IntegrationFactory(project=factories.ProjectFactory())

    wappin_sandbox.register(first)
    wappin_sandbox.register(second)

    world = wappin_sandbox.world()
    assert {project.client_id, second.project.client_id} <= set(world["clients"])
    assert world["projects"][project.wappin_project_id]["callback_url"] == first.callback_url
