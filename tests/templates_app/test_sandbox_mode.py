"""Sandbox mode: a requested template is approved by the sandbox's review, end to end over HTTP."""

import pytest

from templates_app.models import Template
from templates_app.services import template_create, template_deactivate, template_request_approval
from tests import factories
from tests.sandbox.helpers import CLIENT_ID, PROJECT_ID
from tests.templates_app.conftest import sandbox_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_project(settings, templates_sandbox_url):
    settings.WAPPIN_SANDBOX_URL = templates_sandbox_url
    return factories.ProjectFactory(client_id=CLIENT_ID, wappin_project_id=PROJECT_ID)


def _template(project, name="sandbox_promo") -> Template:
    return template_create(
        project=project,
        name=name,
        languages=[
            {"language_code": "en", "header_type": "text", "header_text": "Hi {{1}}", "body": "Dear {{1}}, code {{2}}."},
            {"language_code": "id", "body": "Halo {{1}}, kode {{2}}."},
        ],
    )


def test_a_requested_template_is_approved_and_registered_in_the_sandbox(
    sandbox_project, templates_sandbox_url, django_capture_on_commit_callbacks
):
    # Given a draft template of a project that the sandbox knows
    template = _template(sandbox_project)
    # When it is requested (the review's delay is a countdown; eager tasks run at once)
    with django_capture_on_commit_callbacks(execute=True):
        template_request_approval(template=template)
    # Then it is approved, by nobody in particular, with a reason that says so
    template.refresh_from_db()
    assert template.status == "approved"
    approval = template.status_changes.last()
    assert (approval.actor, "sandbox" in approval.reason) == (None, True)
    # And the sandbox accepts sends of it: active, its languages, its params
    entry = sandbox_world(templates_sandbox_url)["projects"][PROJECT_ID]["templates"]["sandbox_promo"]
    assert entry == {"active": True, "languages": ["en", "id"], "param_count": 2, "header_param": True}


def test_a_deactivated_template_is_inactive_in_the_sandbox(
    sandbox_project, templates_sandbox_url, django_capture_on_commit_callbacks
):
    template = _template(sandbox_project, name="sandbox_old")
    with django_capture_on_commit_callbacks(execute=True):
        template_request_approval(template=template)
    with django_capture_on_commit_callbacks(execute=True):
        template_deactivate(template=template)
    entry = sandbox_world(templates_sandbox_url)["projects"][PROJECT_ID]["templates"]["sandbox_old"]
    assert entry["active"] is False


def test_the_review_leaves_a_template_a_person_already_decided(sandbox_project, admin_user):
    from templates_app.services import template_reject
    from templates_app.tasks import template_sandbox_auto_approve

    template = _template(sandbox_project, name="sandbox_rejected")
    template_request_approval(template=template)
    factories.MembershipFactory(project=sandbox_project, user=admin_user, role="admin")
    template_reject(template=template, actor=admin_user, reason="No")
    assert template_sandbox_auto_approve(template.pk) == "nothing to approve"
    template.refresh_from_db()
    assert template.status == "rejected"


def test_a_project_unknown_to_the_sandbox_is_logged_not_retried(settings, templates_sandbox_url, caplog):
    from templates_app.tasks import template_sandbox_sync

    settings.WAPPIN_SANDBOX_URL = templates_sandbox_url
    template = factories.TemplateFactory(project=factories.ProjectFactory(wappin_project_id="99999"))
    factories.TemplateLanguageFactory(template=template)
    assert template_sandbox_sync(template.pk) == "refused"
    assert "refused" in caplog.text
