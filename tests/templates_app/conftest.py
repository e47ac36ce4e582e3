"""A running sandbox for the sandbox-mode tests of this app.

Stands in until the shared `wappin_sandbox` fixture lands in tests/conftest.py;
it starts the same `python -m sandbox` subprocess the sandbox's own tests use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.helpers import world_for

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def templates_sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    world_path = tmp_path_factory.mktemp("templates-sandbox") / "world.json"
    world_path.write_text(json.dumps(world_for("")))
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0", "--world", str(world_path)],
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


def sandbox_world(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_sandbox/world", timeout=5) as response:
        return json.loads(response.read())
