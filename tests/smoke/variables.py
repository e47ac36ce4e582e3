"""Every variable the settings read is documented: in `.env.example` and in the README's table.

Used by the suite (`tests/test_settings.py`) and by the smoke test before it deploys.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SETTINGS_DIR = ROOT / "wappin_portal" / "settings"
# Read by a library, not by our settings, but part of the deployment all the same.
LIBRARY_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR",)


def settings_variables() -> set[str]:
    """The names our settings read through django-environ (`env("X")`, `env.int("X", ...)`...)."""
    names: set[str] = set()
    for path in SETTINGS_DIR.glob("*.py"):
        names |= set(
            re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", path.read_text("utf-8"))
        )
    return names | set(LIBRARY_VARIABLES)


def undocumented_variables() -> dict[str, list[str]]:
    """{"where": [names missing there]} for `.env.example` and README.md (empty lists: all there)."""
    env_example = (ROOT / ".env.example").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    in_env_example = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", env_example, re.M))
    in_readme = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", readme))
    names = sorted(settings_variables())
    return {
        ".env.example": [name for name in names if name not in in_env_example],
        "README.md": [name for name in names if name not in in_readme],
    }
