"""The Wappin sandbox for the portal's tests: a process per session and a small admin helper.

The fixtures are in `tests/conftest.py` (`wappin_sandbox`); this module holds
what they use. The helper talks to the sandbox's `/_sandbox/` admin endpoints
with urllib (only `messaging.wappin` may import `requests`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# The world a test session starts with: nobody. Tests register what they use.
# Callbacks are off by default (no portal listens during most tests); turn them
# on with `wappin_sandbox.knobs(callbacks_enabled=True)` next to a live server.
BASE_WORLD: dict[str, Any] = {
    "timezone": "Asia/Jakarta",
    "clients": {},
    "projects": {},
    "invalid_numbers": ["6281100000000"],
    "undeliverable_numbers": ["6281199999999"],
    "knobs": {
        "callbacks_enabled": False,
        "callback_delay_ms": 20,
        "callback_retry_backoff_ms": 20,
        "callback_timeout_s": 2,
        "approve_delay_ms": 0,  # the review decides in its answer (tasks run eagerly here)
        "timeout_sleep_s": 5,
    },
}
INVALID_NUMBER = "6281100000000"
UNDELIVERABLE_NUMBER = "6281199999999"


class SandboxProcess:
    """`python -m sandbox --port 0 --world <file>` as a child process (the world: BASE_WORLD,
    or the one given)."""

    def __init__(self, world_path: Path, world: dict[str, Any] | None = None) -> None:
        world_path.write_text(json.dumps(BASE_WORLD if world is None else world))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--world",
                str(world_path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("sandbox listening on "):
            self.stop()
            raise RuntimeError(f"The Wappin sandbox did not start: {line!r}")
        self.url = line.removeprefix("sandbox listening on ").rstrip("/")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class SandboxError(AssertionError):
    pass


class WappinSandbox:
    """A running sandbox, seen from a test: change its world and knobs, see what it received."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    # -- plumbing ------------------------------------------------------------------------
    def admin(self, method: str, action: str, data: Any = None, **query: Any) -> Any:
        url = f"{self.url}/_sandbox/{action}"
        query = {key: value for key, value in query.items() if value not in (None, "")}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(url, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SandboxError(
                f"sandbox {method} {action}: {exc.code} {exc.read()[:500]!r}"
            ) from exc
        return json.loads(raw) if raw else None

    def reset(self) -> None:
        self.admin("POST", "reset")

    def quiesce(self, *, timeout: float = 15.0) -> None:
        """Stop calling back and wait until no job is pending or running.

        Called before a test's database is flushed: a callback still on its way to
        the live server would otherwise hit tables being truncated.
        """
        self.knobs(callbacks_enabled=False)
        self.reset()
        deadline = time.monotonic() + timeout
        while self.admin("GET", "health").get("busy_jobs", 0):
            if time.monotonic() > deadline:
                raise SandboxError(f"the sandbox still had jobs running after {timeout}s")
            time.sleep(0.05)

    # -- the world -----------------------------------------------------------------------
    def world(self) -> dict:
        return self.admin("GET", "world")

    def patch_world(self, patch: dict) -> dict:
        return self.admin("PATCH", "world", patch)

    def register(self, *integrations, templates: bool = True) -> dict:
        """Make the sandbox know these integrations' client, secret key, IP whitelist,
        callback URLs and (with `templates`) their projects' approved templates."""
        from sandbox.portal.sandbox_world import sandbox_world_build

        world = sandbox_world_build(integrations=integrations, with_demo_numbers=False)
        if not templates:
            for project in world["projects"].values():
                project["templates"] = {}
        patch = {"clients": world["clients"], "projects": world["projects"]}
        return self.patch_world(patch)

    def add_template(self, language_or_template, **overrides) -> dict:
        """Add a template (from a Template or one of its TemplateLanguage rows) to its project.

        Active by default whatever its status in the portal; `overrides` change the
        sandbox's entry (`active=False`, `param_count=3`, `header_param=True`, ...)."""
        from sandbox.portal.sandbox_world import sandbox_template_entry
        from templates_app.models import Template

        template = (
            language_or_template
            if isinstance(language_or_template, Template)
            else language_or_template.template
        )
        entry = {**sandbox_template_entry(template=template, active=True), **overrides}
        project_id = template.project.wappin_project_id
        return self.patch_world({"projects": {project_id: {"templates": {template.name: entry}}}})

    # -- knobs and tokens ----------------------------------------------------------------
    def knobs(self, **changes: Any) -> dict:
        if not changes:
            return self.admin("GET", "knobs")
        return self.admin("POST", "knobs", changes)

    def tokens(self) -> dict:
        return self.admin("GET", "tokens")

    def token_get(self, *, client_id: str, secret_key: str) -> str:
        """Ask the sandbox for the client's token as any holder of its key does (Wappin's
        dashboard, another program): Wappin issues one token per client."""
        import base64

        pair = base64.b64encode(f"{client_id}:{secret_key}".encode()).decode()
        request = urllib.request.Request(
            f"{self.url}/v1/token/get",
            data=b"",
            method="POST",
            headers={"Authorization": f"Basic {pair}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        if answer.get("status") != "200":
            raise SandboxError(f"sandbox token/get: {answer}")
        return answer["data"]["access_token"]

    def revoke_token(self, client_id: str) -> bool:
        return self.admin("POST", "revoke-token", {"client_id": client_id})["changed"]

    def expire_token(self, client_id: str) -> bool:
        return self.admin("POST", "expire-token", {"client_id": client_id})["changed"]

    # -- what it saw and did -------------------------------------------------------------
    def sent(self, **filters: Any) -> list[dict]:
        """Messages the sandbox accepted (filters: message_id, endpoint, project_id, direction, limit)."""
        return self.admin("GET", "messages", **filters)

    def callbacks(self, **filters: Any) -> list[dict]:
        """Callback attempts (filters: message_id, status, callback_type, limit)."""
        return self.admin("GET", "callbacks", **filters)

    def customer_message(self, *, project, sender_number: str, message_content: str) -> dict:
        """A customer writes to the business: the sandbox sends a `message` callback."""
        project_id = getattr(project, "wappin_project_id", project)
        return self.admin(
            "POST",
            "customer-message",
            {
                "project_id": str(project_id),
                "sender_number": sender_number,
                "message_content": message_content,
            },
        )
