"""The sandbox as a real subprocess on a free port, and a real callback receiver.

No Django here: these tests must also run under pytest-django without a DB.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.helpers import CallbackReceiver, Sandbox, world_for
from tests.wappin_sandbox import SandboxProcess


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
    try:
        process = SandboxProcess(world_path, world=world_for(callback_receiver.url))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield process.url
    process.stop()


@pytest.fixture
def sandbox(sandbox_url: str, callback_receiver: CallbackReceiver) -> Sandbox:
    client = Sandbox(sandbox_url, callback_receiver)
    client.admin("POST", "reset")
    callback_receiver.clear()
    return client


@pytest.fixture
def token(sandbox: Sandbox) -> str:
    return sandbox.token()
