"""`make run` as a developer runs it, stopped and started again (issue 13's "done when").

The real Makefile target (migrate, seed_demo, sandbox_world, honcho with the Procfile's
runserver, Celery worker and sandbox) runs in a copy of the checkout with its own `var/`
and `.env` and free ports, so it never touches a developer's `make run`. Everything is
seen over HTTP (the sandbox's admin endpoints) and in the copy's SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.wappin_sandbox import WappinSandbox

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO_PROJECT_ID = "476"  # sandbox/portal/demo.py
CUSTOMER = "6281234567001"
PROMO_REPLY = "Promo hari ini: diskon 20% untuk semua sepatu!"
START_SECONDS = 240  # migrate from scratch and three processes on a busy machine
ANSWER_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class MakeRun:
    """`make run` in `checkout` on its own ports; stopped with Ctrl-C (SIGINT to its group)."""

    def __init__(self, checkout: Path, log_path: Path) -> None:
        self.checkout = checkout
        self.log_path = log_path
        self.port, self.sandbox_port = _free_port(), _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox(self) -> WappinSandbox:
        return WappinSandbox(f"http://127.0.0.1:{self.sandbox_port}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def start(self) -> None:
        # The embedded defaults, as on a developer's machine: none of the suite's settings.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.checkout)),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.checkout),  # the copy's code, not the editable install's
        }
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                # -o: the shared virtualenv counts as installed (never reinstalled from here).
                [
                    "make",
                    "-o",
                    ".venv/bin/.installed",
                    "run",
                    f"PORT={self.port}",
                    f"SANDBOX_PORT={self.sandbox_port}",
                ],
                cwd=self.checkout,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_SECONDS
        while not (
            _answers(f"{self.portal_url}/healthz")
            and _answers(f"{self.sandbox.url}/_sandbox/health")
        ):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("make run did not start:\n" + self.log())
            time.sleep(0.5)

    def stop(self) -> None:
        """Ctrl-C, as a developer stops it; whatever is left of the group is killed."""
        if self.process is None:
            return
        group = self.process.pid  # its own session and group (start_new_session)
        if self.process.poll() is None:
            os.killpg(group, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # a child honcho left behind, if any
        self.process.wait(timeout=30)
        self.process = None


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of this checkout's code (no var/, .env or .git) using the same virtualenv."""
    copy = tmp_path / "checkout"
    left_out_at_the_top = {".venv", ".git", "var", "staticfiles", "media", ".env"}
    caches = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache")

    def ignore(directory: str, names: list[str]) -> set[str]:
        top = Path(directory) == ROOT
        return caches(directory, names) | (left_out_at_the_top & set(names) if top else set())

    shutil.copytree(ROOT, copy, ignore=ignore)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def _customer_writes_and_is_answered(run: MakeRun, text: str, *, answers_before: int) -> None:
    sandbox = run.sandbox
    written = sandbox.customer_message(
        project=DEMO_PROJECT_ID, sender_number=CUSTOMER, message_content=text
    )

    def answers() -> list[dict]:
        return [
            sent
            for sent in sandbox.sent(endpoint="do-send")
            if sent["fields"].get("recipient_number") == CUSTOMER
            and sent["fields"].get("message_content") == PROMO_REPLY
        ]

    deadline = time.monotonic() + ANSWER_SECONDS
    while len(answers()) <= answers_before:
        if time.monotonic() > deadline:
            attempts = sandbox.callbacks(message_id=written["message_id"])
            raise AssertionError(
                f"the customer's {text!r} was not answered; Wappin's attempts: {attempts}\n"
                + run.log()
            )
        time.sleep(0.5)
    attempts = sandbox.callbacks(message_id=written["message_id"])
    assert any(attempt.get("accepted") for attempt in attempts), attempts


def _incoming_texts(checkout: Path) -> list[str]:
    with sqlite3.connect(f"file:{checkout / 'var' / 'db.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT text FROM messaging_message WHERE direction = 'in' ORDER BY id"
        ).fetchall()
    return [text for (text,) in rows]


def test_a_customer_is_answered_after_make_run_is_stopped_and_started_again(checkout, tmp_path):
    run = MakeRun(checkout, tmp_path / "make-run.log")
    try:
        # Given `make run`, and a customer who wrote and was answered
        run.start()
        _customer_writes_and_is_answered(run, "PROMO", answers_before=0)

        # When `make run` is stopped and started again (the same var/, a new sandbox process)
        run.stop()
        run.start()

        # Then the customer's next message is received and answered
        _customer_writes_and_is_answered(run, "promo", answers_before=0)
        assert _incoming_texts(checkout) == ["PROMO", "promo"]
    finally:
        run.stop()
