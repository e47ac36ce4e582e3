"""`make fuzz`: schemathesis over the whole API schema against a live portal.

A fresh SQLite database on the test settings (tasks run eagerly), the demo data and a
fresh API key (`seed_demo --json`), the Wappin sandbox with the world the database
describes (`sandbox_world`), and gunicorn; then schemathesis with every check and a fixed
seed, bounded in examples per operation. The checks' settings, with the reasons for each,
are in `tests/fuzz/schemathesis.toml`. Exits with schemathesis's status; prints its figures.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.wappin_sandbox import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
SEED = int(os.environ.get("FUZZ_SEED", "20261202"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _wait_until_up(url: str, process: subprocess.Popen, deadline_s: float = 120.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("The portal stopped while starting.")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"The portal did not answer at {url}.")


def _api(base_url: str, api_key: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base_url}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc


def _existing_ids(base_url: str, api_key: str) -> dict[str, str]:
    """Ids of real objects, so that the detail endpoints are fuzzed past their 404s.

    The demo has contacts, a group, an approved template and keywords; a template message
    and a draft blast are made here.
    """
    first = {
        "FUZZ_CONTACT_ID": "/api/v1/contacts/",
        "FUZZ_GROUP_ID": "/api/v1/groups/",
        "FUZZ_TEMPLATE_ID": "/api/v1/templates/",
        "FUZZ_KEYWORD_ID": "/api/v1/chatbot-keywords/",
    }
    ids = {
        name: str(_api(base_url, api_key, "GET", path)["results"][0]["id"])
        for name, path in first.items()
    }
    template = _api(base_url, api_key, "GET", f"/api/v1/templates/{ids['FUZZ_TEMPLATE_ID']}/")
    language = template["languages"][0]
    message = _api(
        base_url,
        api_key,
        "POST",
        "/api/v1/messages/hsm/",
        {
            "recipient_number": "6281234567001",
            "type": template["name"],
            "params": {str(n): f"v{n}" for n in range(1, language["body_param_count"] + 1)},
            **({"header": {"param": "h"}} if language["header_has_param"] else {}),
            **({"button": {"url": "x"}} if language["url_button_has_param"] else {}),
        },
    )
    blast = _api(
        base_url,
        api_key,
        "POST",
        "/api/v1/blasts/",
        {
            "name": "fuzz",
            "template": template["name"],
            "group": int(ids["FUZZ_GROUP_ID"]),
            "params": {
                str(n): {"text": f"v{n}"} for n in range(1, language["body_param_count"] + 1)
            },
            **({"header": {"param": {"text": "h"}}} if language["header_has_param"] else {}),
            **({"button": {"url": {"text": "x"}}} if language["url_button_has_param"] else {}),
        },
    )
    return ids | {"FUZZ_MESSAGE_ID": str(message["id"]), "FUZZ_BLAST_ID": str(blast["id"])}


def main() -> int:
    (ROOT / "var").mkdir(exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="fuzz-", dir=ROOT / "var"))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wappin_portal.settings.test",
        "DATABASE_URL": f"sqlite:///{run_dir / 'db.sqlite3'}",
        "CACHE_URL": os.environ.get("FUZZ_CACHE_URL", "locmemcache://"),
        "WAPPIN_TEST_RUN_ID": f"fuzz-{os.getpid()}",
        "PORTAL_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
    }
    sandbox = web = None
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        api_key = json.loads(_manage(env, "seed_demo", "--json"))["api_key"]
        _manage(env, "sandbox_world", "--output", str(run_dir / "world.json"))
        world = json.loads((run_dir / "world.json").read_text())
        sandbox = SandboxProcess(run_dir / "sandbox-world.json", world=world)
        env |= {"WAPPIN_BASE_URL": sandbox.url, "WAPPIN_SANDBOX_URL": sandbox.url}
        web_log = (run_dir / "web.log").open("w")
        web = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "wappin_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                # One worker: schemathesis's threads hit CPython 3.11's "AST constructor
                # recursion depth mismatch" (a SystemError in ast.parse run concurrently).
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        _wait_until_up(f"{base_url}/healthz", web)
        env |= _existing_ids(base_url, api_key)
        report = run_dir / "report.json"
        started = time.monotonic()
        result = subprocess.run(
            [
                str(BIN / "schemathesis"),
                "--config-file",
                str(CONFIG),
                "run",
                f"{base_url}/api/schema/",
                "--checks",
                "all",
                "--seed",
                str(SEED),
                # No example database: what a run tries depends on the seed alone.
                "--generation-database",
                "none",
                "--max-examples",
                str(MAX_EXAMPLES),
                # One worker: schemathesis's threads hit CPython 3.11's "AST constructor
                # recursion depth mismatch" (a SystemError in ast.parse run concurrently).
                "--workers",
                "1",
                "--header",
                f"Authorization: Api-Key {api_key}",
                "--report",
                "junit",
                "--report-junit-path",
                str(report.with_suffix(".xml")),
                "--no-color",
            ],
            cwd=ROOT,
            env=env,
        )
        sys.stdout.write(
            f"fuzz: schemathesis took {time.monotonic() - started:.0f} s (seed {SEED}, "
            f"at most {MAX_EXAMPLES} examples per operation); the portal's log: {web_log.name}\n"
        )
        return result.returncode
    finally:
        for process in (web,):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        if sandbox is not None:
            sandbox.stop()
        if os.environ.get("FUZZ_KEEP") != "1":
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
