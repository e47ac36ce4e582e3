"""One module per outside party speaks HTTP: the Wappin client to Wappin, the webhook sender
to developers' endpoints; nothing else in the project imports `requests`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PROJECT_DIRS = [
    "wappin_portal",
    "projects",
    "templates_app",
    "messaging",
    "callbacks",
    "sandbox",
    "tests",
]
IMPORTS_REQUESTS = re.compile(r"^\s*(import requests\b|from requests\b)", re.MULTILINE)


def test_only_the_wappin_client_imports_requests():
    importers = sorted(
        str(path.relative_to(ROOT))
        for folder in PROJECT_DIRS
        for path in (ROOT / folder).rglob("*.py")
        if IMPORTS_REQUESTS.search(path.read_text(encoding="utf-8"))
    )

    assert importers == ["messaging/wappin/client.py", "projects/webhooks/sender.py"]
