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
                "--workers",
                "2",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        _wait_until_up(f"{base_url}/healthz", web)
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
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "2",
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
