"""Sandbox mode: a template made through the API is approved by the sandbox's review and can be sent."""

import pytest

from messaging.models import Message
from templates_app.models import Template
from templates_app.services import template_create, template_deactivate, template_request_approval
from tests import factories

pytestmark = pytest.mark.django_db

GOOD_NUMBER = "6281327666166"


@pytest.fixture
def integration(wappin_sandbox, project):
    integration = factories.IntegrationFactory(project=project)
    wappin_sandbox.register(integration)
    return integration


def _sandbox_entry(wappin_sandbox, template):
    return wappin_sandbox.world()["projects"][template.project.wappin_project_id]["templates"].get(template.name)


def _template(project, name="sandbox_promo") -> Template:
    return template_create(
        project=project,
        name=name,
        languages=[
            {"language_code": "en", "header_type": "text", "header_text": "Hi {{1}}", "body": "Dear {{1}}, code {{2}}."},
            {"language_code": "id", "body": "Halo {{1}}, kode {{2}}."},
        ],
    )


def test_a_template_made_through_the_api_is_approved_by_the_sandbox_and_can_be_sent(
    wappin_sandbox, integration, project, api_client, django_capture_on_commit_callbacks
):
    # Given a template created and requested through the API, in sandbox mode
    created = api_client.post(
        "/api/v1/templates/",
        {"name": "api_made", "languages": [{"language_code": "id", "body": "Halo {{1}}, kode {{2}}."}]},
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(f"/api/v1/templates/{created['id']}/request-approval/")
    # Then the sandbox's review approved it (no person), and the sandbox knows it
    template = Template.objects.get(pk=created["id"])
    assert template.status == "approved"
    approval = template.status_changes.last()
    assert approval.actor is None and "sandbox" in approval.reason
    assert _sandbox_entry(wappin_sandbox, template) == {
        "active": True, "languages": ["id"], "param_count": 2, "header_param": False,
    }
    # When it is sent through the messages API with the right params, Wappin (the sandbox) accepts it
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/messages/hsm/",
            {"recipient_number": GOOD_NUMBER, "type": "api_made", "params": {"1": "Budi", "2": "1234"}},
            format="json",
        )
    assert response.status_code in (200, 201, 202), response.json()
    message = Message.objects.get(template=template)
    assert message.wappin_message_id
    assert [sent for sent in wappin_sandbox.sent() if sent.get("message_id") == message.wappin_message_id]
    # And a wrong param count is refused before any call to Wappin
    sent_before = len(wappin_sandbox.sent())
    response = api_client.post(
        "/api/v1/messages/hsm/",
        {"recipient_number": GOOD_NUMBER, "type": "api_made", "params": {"1": "Budi"}},
        format="json",
    )
    assert response.status_code == 400
    assert "params" in response.json()["error"]["fields"]
    assert len(wappin_sandbox.sent()) == sent_before


def test_a_deactivated_template_is_inactive_in_the_sandbox(
    wappin_sandbox, integration, project, django_capture_on_commit_callbacks
):
    template = _template(project, name="sandbox_old")
    with django_capture_on_commit_callbacks(execute=True):
        template_request_approval(template=template)
    assert _sandbox_entry(wappin_sandbox, template)["active"] is True
    with django_capture_on_commit_callbacks(execute=True):
        template_deactivate(template=template)
    assert _sandbox_entry(wappin_sandbox, template)["active"] is False


def test_the_review_leaves_a_template_a_person_already_decided(wappin_sandbox, integration, project, admin_user):
    from templates_app.services import template_reject
    from templates_app.tasks import template_sandbox_auto_approve

    template = _template(project, name="sandbox_rejected")
    template_request_approval(template=template)
    template_reject(template=template, actor=admin_user, reason="No")
    assert template_sandbox_auto_approve(template.pk) == "nothing to approve"
    template.refresh_from_db()
    assert template.status == "rejected"


def test_a_project_unknown_to_the_sandbox_is_logged_not_retried(wappin_sandbox, caplog):
    from templates_app.tasks import template_sandbox_sync

    template = factories.TemplateFactory(project=factories.ProjectFactory(wappin_project_id="99999"))
    factories.TemplateLanguageFactory(template=template)
    assert template_sandbox_sync(template.pk) == "refused"
    assert "refused" in caplog.text


def test_outside_sandbox_mode_the_review_does_nothing(settings, project):
    from templates_app.tasks import template_sandbox_auto_approve

    settings.WAPPIN_SANDBOX_URL = ""
    template = factories.TemplateFactory(project=project, status="on_process")
    assert template_sandbox_auto_approve(template.pk) == "sandbox mode is off"
