"""Play Wappin's side of a template's life with the sandbox: its review, and its world.

Wappin has no template API: a business makes a template in Wappin's dashboard
and WhatsApp reviews it. Here the sandbox's own review endpoint
(`POST /_sandbox/template-request`, decided after its `approve_delay_ms` knob)
plays that part, and its outcome comes back through the same services an admin
uses (`template_approve` / `template_reject`).
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.portal.client import sandbox_admin_call
from sandbox.portal.sandbox_world import sandbox_template_entry
from templates_app.models import Template
from templates_app.services import template_approve, template_reject

logger = logging.getLogger(__name__)

APPROVED_REASON = "Approved by the sandbox's review."
REJECTED_REASON = "Rejected by the sandbox's review."


def sandbox_template_register(*, template: Template) -> dict[str, Any]:
    """Add or update the template in the sandbox's world (`PATCH /_sandbox/world`)."""
    entry = sandbox_template_entry(template=template)
    patch = {
        "projects": {template.project.wappin_project_id: {"templates": {template.name: entry}}}
    }
    sandbox_admin_call("PATCH", "world", patch)
    return entry


def sandbox_template_review_request(*, template: Template) -> dict[str, Any]:
    """Ask the sandbox to review the template; its answer carries `approval` and `approve_delay_ms`."""
    entry = sandbox_template_entry(template=template, active=False)
    return sandbox_admin_call(
        "POST",
        "template-request",
        {
            "project_id": template.project.wappin_project_id,
            "name": template.name,
            "languages": entry["languages"],
            "param_count": entry["param_count"],
            "header_param": entry["header_param"],
        },
    )


def sandbox_template_review_state(*, template: Template) -> str:
    """The sandbox's review of the template: on_process, approved, rejected ("" if it has none)."""
    world = sandbox_admin_call("GET", "world")
    project = world["projects"].get(template.project.wappin_project_id) or {}
    entry = project.get("templates", {}).get(template.name) or {}
    return entry.get("approval", "")


def sandbox_template_review_apply(*, template: Template, approval: str) -> str:
    """Record the sandbox's decision in the portal, as an admin would; what was done.

    A template a person decided on meanwhile is left as it is, and the sandbox
    is told the portal's state, so that both agree on what can be sent.
    """
    if approval not in ("approved", "rejected"):
        return "undecided"
    if template.status != Template.Status.ON_PROCESS:
        sandbox_template_register(template=template)
        return "already decided"
    if approval == "approved":
        template_approve(template=template, actor=None, reason=APPROVED_REASON)
    else:
        template_reject(template=template, actor=None, reason=REJECTED_REASON)
    return approval
