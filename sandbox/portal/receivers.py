"""The glue's hooks into the templates app's signals: the sandbox plays Wappin's side.

Connected by `SandboxPortalConfig.ready()`; they do nothing when no sandbox is
set (`WAPPIN_SANDBOX_URL` empty), so the templates then wait for an admin.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from sandbox.portal.client import sandbox_url
from sandbox.portal.tasks import sandbox_template_review_start, sandbox_template_sync
from templates_app.models import Template
from templates_app.signals import template_approval_requested, template_status_changed


@receiver(template_approval_requested, dispatch_uid="sandbox_portal.review_start")
def template_review_start(sender: Any, template: Template, **kwargs: Any) -> None:
    if sandbox_url():
        sandbox_template_review_start.delay_on_commit(template.pk)


@receiver(template_status_changed, dispatch_uid="sandbox_portal.template_sync")
def template_sync(
    sender: Any, template: Template, from_status: str, to_status: str, **kwargs: Any
) -> None:
    # Wappin's world changes when a template becomes sendable or stops being so.
    if sandbox_url() and Template.Status.APPROVED in (from_status, to_status):
        sandbox_template_sync.delay_on_commit(template.pk)
