"""Celery tasks of the templates app (sandbox mode only). They take ids, load the row, call a service."""

from __future__ import annotations

import logging

from django.conf import settings

from celery import shared_task

from templates_app.models import Template
from templates_app.sandbox import SandboxRefused, SandboxUnreachable, sandbox_template_register
from templates_app.services import template_approve

logger = logging.getLogger(__name__)


@shared_task
def template_sandbox_auto_approve(template_id: int) -> str:
    """Play WhatsApp's review of a requested template: approve it, through the admin's service.

    Enqueued with a countdown by `template_request_approval` in sandbox mode. A
    template that a person decided on meanwhile is left as it is. The approval
    itself tells the sandbox about the template (`template_sandbox_sync`).
    """
    if not settings.WAPPIN_SANDBOX_URL:
        return "sandbox mode is off"
    template = Template.objects.select_related("project").filter(pk=template_id).first()
    if template is None or template.status != Template.Status.ON_PROCESS:
        return "nothing to approve"
    template_approve(template=template, actor=None, reason="Approved by the sandbox's review (sandbox mode).")
    return "approved"


@shared_task(
    autoretry_for=(SandboxUnreachable,),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def template_sandbox_sync(template_id: int) -> str:
    """Register the template's current state (active or not) in the sandbox's world.

    Retried while the sandbox does not answer; a refusal (say, the project is
    not in the sandbox's world) is logged, since retrying will not change it.
    """
    if not settings.WAPPIN_SANDBOX_URL:
        return "sandbox mode is off"
    template = Template.objects.select_related("project").filter(pk=template_id).first()
    if template is None:
        return "no such template"
    try:
        sandbox_template_register(template=template)
    except SandboxRefused as exc:
        logger.warning("The sandbox refused template %s: %s", template_id, exc)
        return "refused"
    return "registered"
