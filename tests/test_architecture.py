"""Apps import downwards only: callbacks -> messaging -> templates_app -> projects -> wappin_portal.

An app may import itself and any app below it, never one above; no production app
imports the dev-only `sandbox` package. Read from the source (AST), imports inside
functions included, so a late import does not hide an edge. The root URLconf and the
settings name apps by string, which is not an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom first: each app may import the ones before it.
LAYERS = ("wappin_portal", "projects", "templates_app", "messaging", "callbacks")
DEV_ONLY = ("sandbox",)

# Files that still break the rule (none now). A stale entry fails `test_known_violations_are_current`.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, absolute module) for every import; relative imports stay inside their app."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def import_violations(path: str, source: str) -> list[str]:
    """What in `source` (the file at `path`, relative to the repository) breaks the rule."""
    app = path.split("/", 1)[0]
    if app not in LAYERS:
        return []
    allowed = set(LAYERS[: LAYERS.index(app) + 1])
    problems = []
    for line, module in _imported_modules(ast.parse(source, filename=path)):
        top = module.split(".", 1)[0]
        if top in DEV_ONLY:
            problems.append(
                f"{path}:{line} imports {module}: production code never imports the dev-only {top}"
            )
        elif top in LAYERS and top not in allowed:
            problems.append(
                f"{path}:{line} imports {module}: {app} may import only {', '.join(sorted(allowed))}"
            )
    return problems


def _production_files() -> list[Path]:
    return sorted(
        file
        for app in LAYERS
        for file in (ROOT / app).rglob("*.py")
        if "migrations" not in file.relative_to(ROOT).parts
    )


def _violations_by_file() -> dict[str, list[str]]:
    found = {}
    for file in _production_files():
        path = file.relative_to(ROOT).as_posix()
        problems = import_violations(path, file.read_text(encoding="utf-8"))
        if problems:
            found[path] = problems
    return found


def test_apps_import_only_downwards_and_never_the_sandbox():
    found = _violations_by_file()
    new = [
        problem
        for path, problems in found.items()
        if path not in KNOWN_VIOLATIONS
        for problem in problems
    ]
    assert not new, "Imports against the app layering:\n" + "\n".join(new)


def test_known_violations_are_current():
    """A file on the list that now keeps the rule (or is gone) must leave the list."""
    found = _violations_by_file()
    stale = sorted(path for path in KNOWN_VIOLATIONS if path not in found)
    assert not stale, f"These files keep the rule now: remove them from KNOWN_VIOLATIONS: {stale}"


def test_the_checker_sees_every_production_app():
    checked = {file.relative_to(ROOT).parts[0] for file in _production_files()}
    assert checked == set(LAYERS)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("projects/services.py", "import messaging\n"),
        ("projects/services.py", "from messaging.models import Message\n"),
        ("projects/services.py", "def f():\n    from callbacks import services\n"),
        ("templates_app/views.py", "import messaging.wappin.client as client\n"),
        ("wappin_portal/api.py", "from projects.models import Project\n"),
        ("messaging/views.py", "from sandbox import world\n"),
        ("callbacks/services.py", "import sandbox.state\n"),
    ],
)
def test_the_checker_catches_an_import_up_the_layers_or_of_the_sandbox(path, source):
    assert import_violations(path, source)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        (
            "callbacks/services.py",
            "from messaging.models import Message\nfrom wappin_portal import errors\n",
        ),
        (
            "messaging/services.py",
            "from templates_app.selectors import template_preview\nimport projects\n",
        ),
        ("projects/services.py", "from projects.models import Project\nfrom . import selectors\n"),
        ("projects/services.py", "import requests\nfrom django.db import models\n"),
        ("projects/services.py", "SANDBOX = 'messaging.tasks.message_send'\n"),
    ],
)
def test_the_checker_lets_an_import_down_the_layers_through(path, source):
    assert import_violations(path, source) == []


def test_every_function_the_architecture_page_names_exists():
    """docs/architecture.md's action table must match the code: each named function imports."""
    import importlib
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text()
    table = text.split("## Who does what", 1)[1].split("\n## ", 1)[0]
    names = re.findall(
        r"`((?:callbacks|messaging|templates_app|projects|wappin_portal)(?:\.\w+)+)`", table
    )
    assert len(names) >= 20
    missing = []
    for dotted in names:
        module_name, _, function_name = dotted.rpartition(".")
        module = importlib.import_module(module_name)
        if not callable(getattr(module, function_name, None)):
            missing.append(dotted)
    assert missing == []
