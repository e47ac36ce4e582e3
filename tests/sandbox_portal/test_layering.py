"""The development glue stays out of production code, and the emulator stays free of Django."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION_APPS = ("wappin_portal", "projects", "templates_app", "messaging", "callbacks")


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def _top_level(module: str) -> str:
    return module.split(".", 1)[0]


def test_no_production_module_imports_the_sandbox():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for app in PRODUCTION_APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        for module in sorted(_imported_modules(path))
        if _top_level(module) == "sandbox"
    ]
    assert offenders == []


def test_the_emulator_imports_only_the_standard_library_and_itself():
    project_packages = {"django", "celery", "rest_framework", "requests", *PRODUCTION_APPS}
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / "sandbox").glob("*.py"))
        for module in sorted(_imported_modules(path))
        if _top_level(module) in project_packages
    ]
    assert offenders == []


def test_only_local_and_test_settings_install_the_glue():
    settings_dir = ROOT / "wappin_portal" / "settings"
    installs = {
        path.stem for path in settings_dir.glob("*.py") if '"sandbox.portal"' in path.read_text()
    }
    assert installs == {"local", "test"}
