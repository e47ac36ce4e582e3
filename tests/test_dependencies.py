"""The lock file pins every dependency that pyproject.toml names (`make lock` after an edit)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        _canonical(match[1]): match[2]
        for match in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", text, re.M)
    }


def test_every_dependency_of_pyproject_is_pinned_with_hashes_in_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(line) for line in project["dependencies"]]
    wanted += [Requirement(line) for line in project["optional-dependencies"]["dev"]]
    locked = _locked()
    missing = [str(req) for req in wanted if _canonical(req.name) not in locked]
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"
    outside = [
        f"{req.name}=={locked[_canonical(req.name)]} (wants {req.specifier})"
        for req in wanted
        if not req.specifier.contains(locked[_canonical(req.name)], prereleases=True)
    ]
    assert not outside, (
        f"requirements.lock is older than pyproject.toml (run `make lock`): {outside}"
    )
    # Every pin carries its hashes (pip installs it with --require-hashes).
    text = (ROOT / "requirements.lock").read_text()
    pins = re.findall(r"^\S+==\S+ \\\n(?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+", text, re.M)
    assert len(pins) == len(locked)
