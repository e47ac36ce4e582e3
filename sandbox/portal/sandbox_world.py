"""The Wappin sandbox's world (see `sandbox/README.md`), built from the portal's database.

`manage.py sandbox_world` writes it for `make run`; the tests' `wappin_sandbox`
fixture sends the same pieces to a running sandbox. One builder for both, so
the sandbox always knows what the portal knows: client ids and secret keys, IP
whitelists, callback URLs and approved templates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from projects.models import Integration, Project
from templates_app.models import Template

logger = logging.getLogger(__name__)

# Numbers the demo world answers 601 for, and accepts then fails: to try errors by hand.
DEMO_INVALID_NUMBERS = ["6281100000000"]
DEMO_UNDELIVERABLE_NUMBERS = ["6281199999999"]


def sandbox_template_entry(*, template: Template, active: bool | None = None) -> dict[str, Any]:
    """One template as the sandbox knows it: languages (first = default), param count, header variable.

    The sandbox keeps one param count per template; Wappin approves each language
    separately, but our editor keeps the languages' placeholders alike, so the
    first language speaks for all.
    """
    languages = list(template.languages.order_by("position", "id"))
    first = languages[0] if languages else None
    return {
        "active": template.status == Template.Status.APPROVED if active is None else active,
        "languages": [language.language_code for language in languages] or ["id"],
        "param_count": first.body_param_count if first else 0,
        "header_param": first.header_has_param if first else False,
    }


def sandbox_project_entry(*, project: Project, integrations: list[Integration]) -> dict[str, Any]:
    by_kind = {integration.kind: integration for integration in integrations}
    notification = by_kind.get(Integration.Kind.NOTIFICATION)
    chatbot = by_kind.get(Integration.Kind.CHATBOT)
    entry: dict[str, Any] = {
        "client_id": project.client_id,
        "name": project.name,
        "callback_url": (notification or chatbot or integrations[0]).callback_url,
        "templates": {
            template.name: sandbox_template_entry(template=template)
            for template in project.templates.filter(
                status=Template.Status.APPROVED
            ).prefetch_related("languages")
        },
    }
    if notification is not None:
        entry["notification_callback_url"] = notification.callback_url
    if chatbot is not None:
        entry["chatbot_callback_url"] = chatbot.callback_url
    return entry


def sandbox_world_build(
    *, integrations: Iterable[Integration] | None = None, with_demo_numbers: bool = True
) -> dict[str, Any]:
    """The world for `integrations` (default: every active integration that has credentials).

    A Wappin client has one secret key and one IP whitelist; when a client's
    integrations disagree, the first (by project, kind) wins and a warning is logged.
    """
    if integrations is None:
        integrations = Integration.objects.filter(is_active=True).exclude(secret_key="")
    chosen = [
        integration
        for integration in sorted(
            integrations, key=lambda i: (i.project.name, i.project_id, i.kind, i.environment)
        )
        if integration.has_credentials
    ]

    clients: dict[str, dict[str, Any]] = {}
    per_project: dict[int, list[Integration]] = {}
    for integration in chosen:
        project = integration.project
        client = clients.get(project.client_id)
        if client is None:
            clients[project.client_id] = {
                "name": project.business_name or project.name,
                "secret_key": integration.secret_key,
                "ip_whitelist": list(integration.ip_whitelist or []),
            }
        else:
            if client["secret_key"] != integration.secret_key:
                logger.warning(
                    "Client %s has integrations with different secret keys; the sandbox keeps the first.",
                    project.client_id,
                )
            # An empty whitelist means "anyone": keep it empty if any integration has none.
            if client["ip_whitelist"] and integration.ip_whitelist:
                client["ip_whitelist"] += [
                    ip for ip in integration.ip_whitelist if ip not in client["ip_whitelist"]
                ]
            else:
                client["ip_whitelist"] = []
        per_project.setdefault(project.pk, []).append(integration)

    projects: dict[str, dict[str, Any]] = {}
    for project_integrations in per_project.values():
        project = project_integrations[0].project
        if project.wappin_project_id in projects:
            logger.warning(
                "Wappin project id %s is used by two clients; the sandbox keeps the first.",
                project.wappin_project_id,
            )
            continue
        projects[project.wappin_project_id] = sandbox_project_entry(
            project=project, integrations=project_integrations
        )

    return {
        "timezone": settings.WAPPIN_TOKEN_TIMEZONE,
        "environment": "PRODUCTION",
        "clients": clients,
        "projects": projects,
        "invalid_numbers": DEMO_INVALID_NUMBERS if with_demo_numbers else [],
        "undeliverable_numbers": DEMO_UNDELIVERABLE_NUMBERS if with_demo_numbers else [],
    }
