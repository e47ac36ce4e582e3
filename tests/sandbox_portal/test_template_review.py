"""The sandbox reviews requested templates (its own `template-request` endpoint), and its world follows."""

import pytest

from messaging.models import Message
from sandbox.portal.tasks import (
    sandbox_template_review_collect,
    sandbox_template_review_start,
    sandbox_template_sync,
)
from templates_app.models import Template
from templates_app.services import (
    template_create,
    template_deactivate,
    template_reject,
    template_request_approval,
)
from tests import factories

pytestmark = pytest.mark.django_db

GOOD_NUMBER = "6281327666166"


@pytest.fixture
def integration(wappin_sandbox, project):
    integration = factories.IntegrationFactory(project=project)
    wappin_sandbox.register(integration)
    return integration


def _sandbox_entry(wappin_sandbox, template):
    return wappin_sandbox.world()["projects"][template.project.wappin_project_id]["templates"].get(
        template.name
    )


def _template(project, name="sandbox_promo") -> Template:
    return template_create(
        project=project,
        name=name,
        languages=[
            {
                "language_code": "en",
                "header_type": "text",
                "header_text": "Hi {{1}}",
                "body": "Dear {{1}}, code {{2}}.",
            },
            {"language_code": "id", "body": "Halo {{1}}, kode {{2}}."},
        ],
    )


def test_a_template_made_through_the_api_is_approved_by_the_sandbox_and_can_be_sent(
    wappin_sandbox, integration, project, api_client, django_capture_on_commit_callbacks
):
    # Given a template created and requested through the API, with a sandbox
    created = api_client.post(
        "/api/v1/templates/",
        {
            "name": "api_made",
            "languages": [{"language_code": "id", "body": "Halo {{1}}, kode {{2}}."}],
        },
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(f"/api/v1/templates/{created['id']}/request-approval/")
    # Then the sandbox's own review approved it (no person), and the sandbox knows it
    template = Template.objects.get(pk=created["id"])
    assert template.status == "approved"
    approval = template.status_changes.last()
    assert approval.actor is None and "sandbox" in approval.reason
    assert _sandbox_entry(wappin_sandbox, template) == {
        "active": True,
        "approval": "approved",
        "languages": ["id"],
        "param_count": 2,
        "header_param": False,
    }
    # When it is sent through the messages API with the right params, Wappin (the sandbox) accepts it
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/messages/hsm/",
            {
                "recipient_number": GOOD_NUMBER,
                "type": "api_made",
                "params": {"1": "Budi", "2": "1234"},
            },
            format="json",
        )
    assert response.status_code in (200, 201, 202), response.json()
    message = Message.objects.get(template=template)
    assert message.wappin_message_id
    assert [
        sent
        for sent in wappin_sandbox.sent()
        if sent.get("message_id") == message.wappin_message_id
    ]
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


def test_a_rejection_by_the_sandbox_is_recorded_with_its_reason(
    wappin_sandbox, integration, project
):
    # Given a requested template that the sandbox's review rejects
    template = _template(project, name="sandbox_bad")
    template_request_approval(template=template)
    wappin_sandbox.admin(
        "POST",
        "template-request",
        {"project_id": project.wappin_project_id, "name": template.name, "outcome": "rejected"},
    )
    # When the glue collects the review
    assert sandbox_template_review_collect(template.pk) == "rejected"
    # Then the marketer sees it rejected, with the reason
    template.refresh_from_db()
    assert template.status == "rejected"
    assert "sandbox" in template.rejection_reason


def test_the_review_leaves_a_template_a_person_already_decided(
    wappin_sandbox, integration, project, admin_user
):
    # Given a template an admin rejected while the sandbox was reviewing it
    template = _template(project, name="sandbox_rejected")
    template_request_approval(template=template)
    wappin_sandbox.admin(
        "POST", "template-request", {"project_id": project.wappin_project_id, "name": template.name}
    )
    template_reject(template=template, actor=admin_user, reason="No")
    # When the sandbox's approval is collected, or the review asked for again
    assert sandbox_template_review_collect(template.pk) == "already decided"
    assert sandbox_template_review_start(template.pk) == "nothing to review"
    # Then the person's decision stands, and the sandbox does not let it be sent
    template.refresh_from_db()
    assert template.status == "rejected"
    assert _sandbox_entry(wappin_sandbox, template)["active"] is False


def test_a_project_unknown_to_the_sandbox_is_logged_and_waits_for_an_admin(
    wappin_sandbox, caplog, django_capture_on_commit_callbacks
):
    template = _template(factories.ProjectFactory(wappin_project_id="99999"), name="sandbox_lost")
    with django_capture_on_commit_callbacks(execute=True):
        template_request_approval(template=template)
    template.refresh_from_db()
    assert template.status == "on_process"
    assert "refused" in caplog.text
    assert sandbox_template_sync(template.pk) == "refused"


def test_without_a_sandbox_requesting_approval_leaves_it_on_process(
    project, settings, django_capture_on_commit_callbacks
):
    settings.WAPPIN_SANDBOX_URL = ""
    template = _template(project, name="no_sandbox")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        template_request_approval(template=template)
    assert callbacks == []
    template.refresh_from_db()
    assert template.status == "on_process"
