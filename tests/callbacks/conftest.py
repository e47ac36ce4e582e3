"""Helpers for posting callbacks the way Wappin does."""

from __future__ import annotations

import json

import pytest

from tests import factories

CURRENT_TOKEN = "d49865d016a32ab31734ed6972a818c41808c9f109c3614bec5da2508ef3be20"
PREVIOUS_TOKEN = "0ld70ken0ld70ken0ld70ken0ld70ken0ld70ken0ld70ken0ld70ken0ld70ken"

# Section 6 of Wappin's document, copied exactly as printed (the status sample
# runs over a page break; its quirks, "project id" and "status_messages", kept).
DOCUMENT_STATUS_SAMPLE = """{ "message_id": "5cdbe7774a059", "client_id": "0009", "client_name": "wappin-info", "project id": "16",
 "project_name": "WAPPIN-INFO", "sender_number": "628989229471", "status_messages": "delivered", "message_content": "-", "environment": "PRODUCTION", "timestamp": "1557915512", "callback_type": "status" } """

DOCUMENT_MESSAGE_SAMPLE = """ {
  "message_id": "5cdbe77d09ee7",
  "client_id": "0009",
  "client_name": "wappin-info",
  "project_id": "16",
  "project_name": "WAPPIN-INFO",
  "sender_number": "628989229471",
  "status_messages": "-",
  "message_content": "tesss",
  "environment": "PRODUCTION",
  "timestamp": "1557915516",
  "callback_type": "message"
} """


def status_body(
    message_id: str, status: str, *, timestamp: str = "1557915512", project_id: str = "16"
) -> str:
    return json.dumps(
        {
            "message_id": message_id,
            "client_id": "0009",
            "client_name": "wappin-info",
            "project id": project_id,
            "project_name": "WAPPIN-INFO",
            "sender_number": "628989229471",
            "status_messages": status,
            "message_content": "-",
            "environment": "PRODUCTION",
            "timestamp": timestamp,
            "callback_type": "status",
        }
    )


def message_body(
    message_id: str, text: str, *, sender: str = "628989229471", timestamp: str | int = ""
) -> str:
    import time

    return json.dumps(
        {
            "message_id": message_id,
            "client_id": "0009",
            "client_name": "wappin-info",
            "project_id": "16",
            "project_name": "WAPPIN-INFO",
            "sender_number": sender,
            "status_messages": "-",
            "message_content": text,
            "environment": "PRODUCTION",
            "timestamp": timestamp or str(int(time.time())),
            "callback_type": "message",
        }
    )


@pytest.fixture
def wappin_project(db):
    """The project of the document's samples: client 0009, project 16."""
    return factories.ProjectFactory(
        client_id="0009", wappin_project_id="16", business_name="Wappin Info"
    )


@pytest.fixture
def integration(wappin_project):
    return factories.IntegrationFactory(
        project=wappin_project,
        kind="chatbot",
        access_token=CURRENT_TOKEN,
        previous_access_token=PREVIOUS_TOKEN,
    )


@pytest.fixture
def post_callback(client, django_capture_on_commit_callbacks):
    """POST a body to an integration's callback URL as Wappin does; tasks run on commit."""

    def post(integration, body: str | bytes, *, token: str | None = CURRENT_TOKEN, **extra):
        headers = dict(extra)
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                integration.callback_path, data=body, content_type="application/json", **headers
            )

    return post
