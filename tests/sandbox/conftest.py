"""The sandbox as a real subprocess on a free port, and a real callback receiver.

No Django here: these tests must also run under pytest-django without a DB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.helpers import CallbackReceiver, Sandbox, world_for

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(scope="session")
def sandbox_url(
    tmp_path_factory: pytest.TempPathFactory, callback_receiver: CallbackReceiver
) -> Iterator[str]:
    world_path = tmp_path_factory.mktemp("sandbox") / "world.json"
    world_path.write_text(json.dumps(world_for(callback_receiver.url)))
    process = subprocess.Popen(
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
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("sandbox listening on "):
        process.kill()
        pytest.fail(f"the sandbox did not start: {line!r}")
    yield line.removeprefix("sandbox listening on ")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_url: str, callback_receiver: CallbackReceiver) -> Sandbox:
    client = Sandbox(sandbox_url, callback_receiver)
    client.admin("POST", "reset")
    callback_receiver.clear()
    return client


@pytest.fixture
def token(sandbox: Sandbox) -> str:
    return sandbox.token()
