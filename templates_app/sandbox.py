"""Sandbox mode: tell the Wappin sandbox which templates are approved.

Wappin has no template API (templates are made in its dashboard and reviewed
by WhatsApp), so the real Wappin learns about a template outside this
portal. The sandbox plays that part: when sandbox mode is on
(`WAPPIN_SANDBOX_URL` set, never in production) the portal patches the
sandbox's world with each template's approval state, so that a template
approved here can be sent there.

This is a call to the sandbox's own admin endpoint, not to Wappin's API, so it
does not go through `messaging.wappin.WappinClient`; the standard library is
enough for one small JSON PATCH.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from messaging.wappin.sandbox_world import sandbox_template_entry
from templates_app.models import Template

SANDBOX_TIMEOUT_SECONDS = 5.0


class SandboxUnreachable(Exception):
    """The sandbox did not answer (it may be starting): worth a retry."""


class SandboxRefused(Exception):
    """The sandbox refused the patch (e.g. the project is not in its world): a retry will not help."""


def sandbox_template_register(*, template: Template) -> dict:
    """Add or update the template in the sandbox's world (`PATCH /_sandbox/world`)."""
    base_url = (settings.WAPPIN_SANDBOX_URL or "").rstrip("/")
    if not base_url:
        raise SandboxRefused("Sandbox mode is off (WAPPIN_SANDBOX_URL is empty).")
    entry = sandbox_template_entry(template=template)
    patch = {"projects": {template.project.wappin_project_id: {"templates": {template.name: entry}}}}
    request = urllib.request.Request(  # noqa: S310 - the URL is our own setting, http(s) only
        f"{base_url}/_sandbox/world",
        data=json.dumps(patch).encode(),
        method="PATCH",
        headers={"Content-Type": "application/merge-patch+json"},
    )
    if not base_url.startswith(("http://", "https://")):
        raise SandboxRefused(f"WAPPIN_SANDBOX_URL must be an http(s) URL, not {base_url!r}.")
    try:
        with urllib.request.urlopen(request, timeout=SANDBOX_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        if exc.code >= 500:
            raise SandboxUnreachable(f"The sandbox answered {exc.code}: {detail}") from exc
        raise SandboxRefused(f"The sandbox refused the template ({exc.code}): {detail}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise SandboxUnreachable(f"The sandbox at {base_url} did not answer: {exc}") from exc
    return entry
