"""Production's logs: a JSON line per request and per task, a request id, and no secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from projects.models import Integration
from tests import factories
from wappin_portal.logs import ContextFilter, JsonFormatter, redact


@pytest.fixture
def json_log():
    """Everything logged at any level, formatted as production formats it; `.lines()` parses it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    quiet = [logging.getLogger(name) for name in ("wappin_portal.request", "wappin_portal.task")]
    saved = (root.level, [logger.level for logger in quiet])
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for logger in quiet:
        logger.setLevel(logging.DEBUG)

    class Captured:
        @staticmethod
        def text() -> str:
            return stream.getvalue()

        @staticmethod
        def lines() -> list[dict]:
            return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    try:
        yield Captured
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for logger, level in zip(quiet, saved[1], strict=True):
            logger.setLevel(level)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("checkout-7f3a.2_b", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("bad id!", False),
        ("", False),
    ],
)
def test_a_sane_request_id_is_echoed_and_any_other_replaced(client, sent, kept):
    response = client.get("/healthz", headers={"X-Request-Id": sent})
    echoed = response["X-Request-Id"]
    if kept:
        assert echoed == sent
    else:
        assert echoed != sent and len(echoed) == 32


@pytest.mark.django_db
def test_each_request_is_one_json_line_with_who_asked(api_client, api_key, project, json_log):
    response = api_client.get("/api/v1/messages/", headers={"X-Request-Id": "req-123"})
    assert response.status_code == 200
    lines = [line for line in json_log.lines() if line["logger"] == "wappin_portal.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-123"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/messages/", 200)
    assert line["api_key_id"] == api_key[1].pk and line["project_id"] == project.pk
    assert line["duration_ms"] >= 0 and line["level"] == "INFO" and line["timestamp"]


@pytest.mark.django_db
def test_a_logged_in_members_request_names_the_user(marketer_client, marketer, project, json_log):
    assert marketer_client.get("/templates/").status_code == 200
    line = next(line for line in json_log.lines() if line["logger"] == "wappin_portal.request")
    assert line["user_id"] == marketer.pk and line["project_id"] == project.pk


@pytest.mark.django_db(transaction=True)
def test_no_secret_is_logged_by_a_send_its_task_and_the_token_fetch(
    api_client, api_key, project, wappin_sandbox, json_log
):
    # Given an integration with a client key and a secret key, known to the sandbox
    integration = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    factories.TemplateLanguageFactory(
        template=factories.TemplateFactory(project=project, name="order_shipped"), body="Hi {{1}}"
    )
    wappin_sandbox.register(integration)
    # When a template is sent through the API (its task fetches a token and calls Wappin),
    # with the key also in the query string, where a careless client puts it
    response = api_client.post(
        f"/api/v1/messages/hsm/?api_key={api_key[0]}",
        {"recipient_number": "081234567890", "type": "order_shipped", "params": {"1": "Budi"}},
        format="json",
        headers={"X-Request-Id": "send-1"},
    )
    assert response.status_code == 202, response.content
    integration.refresh_from_db()
    assert integration.credential.access_token  # a token was fetched: a secret in play
    # Then the request and its task each have their line, with the request's id
    lines = json_log.lines()
    task_lines = [line for line in lines if line["logger"] == "wappin_portal.task"]
    assert task_lines and all(line["request_id"] == "send-1" for line in task_lines)
    assert (
        task_lines[0]["task"].startswith("messaging.") and task_lines[0]["task_state"] == "SUCCESS"
    )
    assert any(
        line["logger"] == "wappin_portal.request" and line["request_id"] == "send-1"
        for line in lines
    )
    # And no secret appears anywhere in the output
    text = json_log.text()
    for secret in (
        api_key[0],
        integration.client_key,
        integration.secret_key,
        integration.credential.access_token,
    ):
        assert secret not in text


def test_credentials_in_free_text_are_redacted():
    line = redact(
        "Authorization: Bearer abc123 and Api-Key wp_0123456789abcdefghij, "
        'secret_key=s3cr3t {"client_key": "k3y", "access_token": "t0k"} token=xyz'
    )
    for secret in ("abc123", "wp_0123456789abcdefghij", "s3cr3t", "k3y", "t0k", "xyz"):
        assert secret not in line
    assert redact("token fetch for integration 5") == "token fetch for integration 5"
