"""The messaging REST API as a whole: authentication, throttling, errors in our shape, the schema and its docs."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

import pytest
from rest_framework.test import APIClient

from projects.authentication import ApiKeyRateThrottle
from projects.services import api_key_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_requests_without_a_key_are_refused_in_our_error_shape(client):
    response = client.get("/api/v1/messages/")
    assert response.status_code in (401, 403)
    assert "message" in response.json()["error"]


def test_too_many_requests_answer_429_in_our_error_shape(api_client, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_000_040.0)  # 20 s into a window
    statuses = [api_client.get("/api/v1/messages/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = api_client.get("/api/v1/messages/")
    assert response.json()["error"]["code"] == "throttled"
    # Retry-After says when the window ends (it started at 1,000,020, a multiple of 60)
    assert response["Retry-After"] == "40"
    cache.clear()


def test_the_throttle_counts_each_key_apart_and_starts_again_next_window(
    api_client, project, monkeypatch
):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    now = [1_000_020.0]
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: now[0])
    other = APIClient()
    other.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=project, name='other').raw_key}"
    )
    # Given one key that used up its window
    assert [api_client.get("/api/v1/messages/").status_code for _ in range(3)] == [200, 200, 429]
    # Then another key still has its own allowance
    assert other.get("/api/v1/messages/").status_code == 200
    # And the first key may call again once the next window starts
    now[0] += 60
    assert api_client.get("/api/v1/messages/").status_code == 200
    cache.clear()


def test_session_user_names_the_project(marketer_client, project):
    message = factories.MessageFactory(project=project)
    page = marketer_client.get("/api/v1/messages/", {"project": project.pk}).json()
    assert [item["id"] for item in page["results"]] == [message.pk]


def test_openapi_schema_validates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for path in (
        "/api/v1/messages/hsm/",
        "/api/v1/messages/hsm-media/",
        "/api/v1/messages/text/",
        "/api/v1/messages/media/",
        "/api/v1/messages/{message_id}/refresh-status/",
    ):
        assert path in schema


def test_api_docs_page_renders_with_no_cdn(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/" in page


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/templates/null,null/",
        "/api/v1/chatbot-keywords/-46/",
        "/api/v1/messages/1.5/",
        "/api/v1/nope",
    ],
)
def test_an_api_url_no_endpoint_matches_is_404_in_our_error_shape(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("not_found", f"No API endpoint at {url}.")


def test_a_post_without_the_trailing_slash_is_told_the_right_url(api_client):
    api_client.handler.enforce_csrf_checks = True  # as a real client: no CSRF page instead of JSON
    response = api_client.post("/api/v1/messages/text", {"text": "hi"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "No API endpoint at /api/v1/messages/text. Did you mean /api/v1/messages/text/ (with the trailing slash)?"
    )
    assert (
        api_client.get("/api/v1/messages?status=read")["Location"]
        == "/api/v1/messages/?status=read"
    )


@pytest.mark.parametrize(
    "url", ["/api/v1/templates/null,null/", "/api/v1/templates/%C3%A2%2B%0A/request-approval/"]
)
def test_a_put_to_an_unmatched_api_url_is_json_even_with_csrf_checks(api_client, url):
    api_client.handler.enforce_csrf_checks = True

    response = api_client.put(url, {"name": "x"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/messages/hsm/",
        "/api/v1/messages/text/",
        "/api/v1/contacts/",
        "/api/v1/chatbot-keywords/",
    ],
)
def test_json_nested_thousands_of_levels_deep_is_a_400(api_client, url):
    # json.loads raised RecursionError, which DRF's parser let through as a 500.
    body = "[" * 100_000 + "]" * 100_000
    response = api_client.generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"] == "JSON parse error - the body is nested too deeply."
    )
