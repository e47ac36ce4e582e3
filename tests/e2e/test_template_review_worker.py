"""The sandbox's review of a requested template through a real worker, as `make run` runs it."""

from __future__ import annotations

import pytest

from templates_app.models import Template
from templates_app.services import template_create, template_request_approval
from tests import factories
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_requested_template_is_approved_after_the_sandboxs_review_time(
    wappin_sandbox, project, celery_worker_process
):
    # Given a sandbox whose review takes a while
    wappin_sandbox.register(factories.IntegrationFactory(project=project))
    wappin_sandbox.knobs(approve_delay_ms=700)
    template = template_create(
        project=project,
        name="reviewed_later",
        languages=[{"language_code": "id", "body": "Halo {{1}}"}],
    )

    # When a marketer requests approval
    template_request_approval(template=template)

    # Then the sandbox holds it on process, then approves it, and the portal records that
    def sandbox_entry() -> dict:
        return (
            wappin_sandbox.world()["projects"][project.wappin_project_id]["templates"].get(
                template.name
            )
            or {}
        )

    wait_for(
        lambda: sandbox_entry().get("approval"), what="the sandbox to receive the review request"
    )
    approved = wait_for(
        lambda: Template.objects.filter(pk=template.pk, status=Template.Status.APPROVED).first(),
        what="the worker to record the sandbox's approval",
    )
    assert "sandbox" in approved.status_changes.last().reason
    assert sandbox_entry()["active"] is True
