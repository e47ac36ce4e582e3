"""Celery tasks of the sandbox glue. They take ids, load the row, call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from sandbox.portal.client import SandboxRefused, SandboxUnreachable
from sandbox.portal.services import (
    sandbox_template_register,
    sandbox_template_review_apply,
    sandbox_template_review_request,
    sandbox_template_review_state,
)
from templates_app.models import Template

logger = logging.getLogger(__name__)

# After the sandbox's review time, ask again this often, this many times, for its decision.
REVIEW_POLL_SECONDS = 1.0
REVIEW_POLL_ATTEMPTS = 30

SANDBOX_RETRY = {
    "autoretry_for": (SandboxUnreachable,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


def _template(template_id: int) -> Template | None:
    return Template.objects.select_related("project").filter(pk=template_id).first()


@shared_task(**SANDBOX_RETRY)
def sandbox_template_review_start(template_id: int) -> str:
    """Send a requested template to the sandbox's review; collect the decision when it is due.

    A template decided meanwhile (the demo seeding approves its own) is not sent.
    A refusal (say, the project is not in the sandbox's world) is logged: the
    template stays on process until an admin decides, as without a sandbox.
    """
    template = _template(template_id)
    if template is None or template.status != Template.Status.ON_PROCESS:
        return "nothing to review"
    try:
        answer = sandbox_template_review_request(template=template)
    except SandboxRefused as exc:
        logger.warning("The sandbox refused to review template %s: %s", template_id, exc)
        return "refused"
    countdown = (answer.get("approve_delay_ms") or 0) / 1000
    sandbox_template_review_collect.apply_async(args=[template_id], countdown=countdown)
    return "requested"


@shared_task(**SANDBOX_RETRY)
def sandbox_template_review_collect(template_id: int, attempt: int = 1) -> str:
    """Read the sandbox's decision on the template and record it in the portal."""
    template = _template(template_id)
    if template is None:
        return "no such template"
    try:
        approval = sandbox_template_review_state(template=template)
    except SandboxRefused as exc:
        logger.warning("The sandbox refused to show template %s: %s", template_id, exc)
        return "refused"
    if approval == "on_process":
        if attempt >= REVIEW_POLL_ATTEMPTS:
            logger.warning("The sandbox has not decided on template %s; giving up.", template_id)
            return "undecided"
        sandbox_template_review_collect.apply_async(
            args=[template_id, attempt + 1], countdown=REVIEW_POLL_SECONDS
        )
        return "on process"
    return sandbox_template_review_apply(template=template, approval=approval)


@shared_task(**SANDBOX_RETRY)
def sandbox_template_sync(template_id: int) -> str:
    """Register the template's current state (active or not) in the sandbox's world.

    Retried while the sandbox does not answer; a refusal (say, the project is
    not in the sandbox's world) is logged, since retrying will not change it.
    """
    template = _template(template_id)
    if template is None:
        return "no such template"
    try:
        sandbox_template_register(template=template)
    except SandboxRefused as exc:
        logger.warning("The sandbox refused template %s: %s", template_id, exc)
        return "refused"
    return "registered"
