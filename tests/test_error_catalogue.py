"""docs/api.md and the schema keep up with the API: every error code (and its page), every
endpoint with examples, every field and parameter described."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from wappin_portal.error_catalogue import ERROR_CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
APPS = ("wappin_portal", "projects", "templates_app", "messaging")
# Codes that never reach an API answer: a form validator's, Wappin's callbacks' parser's.
NOT_API_CODES = {
    "template_name",
    "unknown_type",
    "phone_region",
    # The portal's own pages only (members, integrations, settings, two-factor, the
    # template form): no API endpoint answers them.
    "already_member",
    "integration_not_found",
    "last_admin",
    "member_not_found",
    "opt_out_texts_invalid",
    "password_invalid",
    "role_invalid",
    "too_few_forms",
    "two_factor_code_invalid",
    "two_factor_enabled",
    "two_factor_no_setup",
    "user_not_found",
    "user_required",
}


def _codes_in_source() -> set[str]:
    codes = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        value = keyword.value
                        if keyword.arg == "code" and isinstance(value, ast.Constant):
                            codes.add(value.value)
                elif isinstance(node, ast.Assign) and any(
                    getattr(target, "id", "") == "default_code" for target in node.targets
                ):
                    codes.add(node.value.value)
    return codes - NOT_API_CODES


def test_every_code_the_code_raises_is_in_the_catalogue():
    assert sorted(_codes_in_source() - set(ERROR_CATALOGUE)) == []


def test_every_catalogue_code_is_documented_in_docs_api_md():
    docs = (ROOT / "docs" / "api.md").read_text()
    assert sorted(code for code in ERROR_CATALOGUE if f"`{code}`" not in docs) == []


@pytest.mark.django_db
def test_the_catalogue_page_has_an_anchor_per_code(client):
    page = client.get("/api/docs/errors/").content.decode()
    assert all(f'id="{code}"' in page for code in ERROR_CATALOGUE)


def test_every_endpoint_of_the_schema_has_a_curl_and_a_python_example_in_the_docs():
    from drf_spectacular.generators import SchemaGenerator

    docs = (ROOT / "docs" / "api.md").read_text()
    sections = docs.split("#### `")[1:]
    documented = {section.split("`", 1)[0]: section for section in sections}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            section = documented.get(f"{method.upper()} {path}")
            assert section is not None, f"{method.upper()} {path} is not in docs/api.md"
            assert "```sh\ncurl" in section and "```python\n" in section, path


def test_every_field_and_parameter_of_the_schema_is_described():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    undescribed = [
        f"{name}.{prop}"
        for name, component in schema["components"]["schemas"].items()
        for prop, field in component.get("properties", {}).items()
        if not field.get("description")
    ]
    undescribed += [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert undescribed == []
