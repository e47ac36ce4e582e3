"""Calls to the sandbox's own admin endpoints (`/_sandbox/...`, see `sandbox/README.md`).

These are not Wappin's API, so they do not go through `messaging.wappin.WappinClient`
(which speaks only the API document); the standard library is enough for a few
small JSON calls to a process on this machine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings

SANDBOX_TIMEOUT_SECONDS = 5.0


class SandboxUnreachable(Exception):
    """The sandbox did not answer (it may be starting): worth a retry."""


class SandboxRefused(Exception):
    """The sandbox refused the call (e.g. the project is not in its world): a retry will not help."""


def sandbox_url() -> str:
    """The sandbox's address (`WAPPIN_SANDBOX_URL`); empty when the portal runs without one."""
    return (settings.WAPPIN_SANDBOX_URL or "").rstrip("/")


def sandbox_admin_call(method: str, action: str, data: Any = None) -> Any:
    """`method /_sandbox/<action>` with a JSON body; the JSON answer."""
    base_url = sandbox_url()
    if not base_url:
        raise SandboxRefused("There is no sandbox (WAPPIN_SANDBOX_URL is empty).")
    if not base_url.startswith(("http://", "https://")):
        raise SandboxRefused(f"WAPPIN_SANDBOX_URL must be an http(s) URL, not {base_url!r}.")
    body = None if data is None else json.dumps(data).encode()
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    request = urllib.request.Request(
        f"{base_url}/_sandbox/{action}",
        data=body,
        method=method,
        headers={"Content-Type": content_type} if body is not None else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=SANDBOX_TIMEOUT_SECONDS) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        if exc.code >= 500:
            raise SandboxUnreachable(f"The sandbox answered {exc.code}: {detail}") from exc
        raise SandboxRefused(
            f"The sandbox refused {method} {action} ({exc.code}): {detail}"
        ) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise SandboxUnreachable(f"The sandbox at {base_url} did not answer: {exc}") from exc
    return json.loads(raw) if raw else None
