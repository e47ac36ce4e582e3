"""Issue 11's strictness: each defect a developer tripped over, written as its reproduction."""

from __future__ import annotations

import json

import pytest

from messaging.models import Message
from projects.models import Integration
from tests import factories

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"type", "code", "message", "fields", "request_id", "doc_url"}
# The one documented addition: `contact_exists` names the contact that has the number.
DOCUMENTED_EXTRAS = {"contact_exists": {"contact_id"}}


def _error(response, *, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == ERROR_KEYS | DOCUMENTED_EXTRAS.get(code, set())
    assert error["request_id"] == response["X-Request-Id"]
    assert error["doc_url"].endswith(f"/api/docs/errors/#{code}")
    return error


@pytest.fixture
def greeting(project):
    factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    template = factories.TemplateFactory(project=project, name="greeting")
    factories.TemplateLanguageFactory(template=template, language_code="id", body="Halo {{1}}.")
    factories.TemplateLanguageFactory(
        template=template, language_code="en", body="Hello {{1}}.", position=1
    )
    return template


HSM = {"recipient_number": "081234567890", "type": "greeting", "params": {"1": "Budi"}}


# --- Defect 1: API-key requests are answered in JSON whatever they accept ----------------------


@pytest.mark.parametrize(
    ("accept", "query"), [("text/html", ""), ("*/*", "?format=api"), ("text/html", "?format=api")]
)
def test_an_api_key_request_is_answered_in_json_whatever_it_accepts(api_client, accept, query):
    response = api_client.get(f"/api/v1/messages/{query}", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["results"] == []


def test_a_send_asking_for_html_is_queued_once_and_answered_202_in_json(
    api_client, greeting, django_capture_on_commit_callbacks
):
    # It was queued, then answered 500 (the browsable page's context processor could not
    # handle an API-key user): a client retrying the 5xx sent twice.
    with django_capture_on_commit_callbacks():
        response = api_client.post(
            "/api/v1/messages/hsm/", HSM, format="json", HTTP_ACCEPT="text/html"
        )
    assert response.status_code == 202
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["id"] == Message.objects.get().pk


# --- Defect 4: unknown body fields -------------------------------------------------------------


def test_an_unknown_body_field_is_a_400_naming_it_and_nothing_is_sent(api_client, greeting):
    # `language` is a typo for `language_code`: it sent in the default language with a 202.
    response = api_client.post(
        "/api/v1/messages/hsm/", {**HSM, "language": "en", "colour": "red"}, format="json"
    )
    error = _error(response, status=400, code="unknown_field")
    assert set(error["fields"]) == {"language", "colour"}
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/contacts/", {"phone_number": "081234567890", "nmae": "Sari"}),
        ("/api/v1/chatbot-keywords/", {"keyword": "promo", "template_name": "t", "text": "x"}),
        (
            "/api/v1/templates/",
            {
                "name": "welcome",
                "languages": [{"language_code": "id", "body": "Halo", "heder": "x"}],
            },
        ),
    ],
)
def test_unknown_fields_are_refused_on_every_write(api_client, url, body):
    error = _error(api_client.post(url, body, format="json"), status=400, code="unknown_field")
    assert any(name in str(error["fields"]) for name in ("nmae", "text", "heder"))


# --- Defect 5: one error object, stable codes, 409 for duplicates ------------------------------


def test_duplicates_are_409_for_templates_keywords_and_contacts(api_client, project):
    factories.TemplateFactory(project=project, name="welcome")
    factories.ChatbotKeywordFactory(project=project, keyword="promo", normalized_keyword="promo")
    factories.ContactFactory(project=project, phone_number="6281234567890")
    template = api_client.post(
        "/api/v1/templates/",
        {"name": "welcome", "languages": [{"language_code": "id", "body": "Halo"}]},
        format="json",
    )
    keyword = api_client.post(
        "/api/v1/chatbot-keywords/",
        {"keyword": "PROMO", "template_name": "t", "response_text": "x"},
        format="json",
    )
    contact = api_client.post("/api/v1/contacts/", {"phone_number": "081234567890"}, format="json")
    assert _error(template, status=409, code="template_exists")["fields"]["name"]
    assert _error(keyword, status=409, code="keyword_exists")["fields"]["keyword"]
    _error(contact, status=409, code="contact_exists")


def test_errors_of_every_kind_share_one_shape(api_client, client):
    _error(api_client.get("/api/v1/messages/999999/"), status=404, code="message_not_found")
    _error(api_client.post("/api/v1/messages/text/", {}, format="json"), status=400, code="invalid")
    _error(client.get("/api/v1/messages/"), status=401, code="not_authenticated")
    _error(api_client.delete("/api/v1/messages/"), status=405, code="method_not_allowed")
    _error(
        api_client.post("/api/v1/messages/text/", "{", content_type="application/json"),
        status=400,
        code="parse_error",
    )


def test_a_client_request_id_is_echoed_and_carried_in_the_error(api_client):
    response = api_client.get("/api/v1/messages/999999/", HTTP_X_REQUEST_ID="order-2041.retry-1")
    assert response["X-Request-Id"] == "order-2041.retry-1"
    assert _error(response, status=404, code="message_not_found")["request_id"] == (
        "order-2041.retry-1"
    )


# --- Defect 6: every list paginated the same way, and strict about its parameters -------------

LISTS = [
    "/api/v1/messages/",
    "/api/v1/contacts/",
    "/api/v1/templates/",
    "/api/v1/chatbot-keywords/",
    "/api/v1/groups/",
    "/api/v1/blasts/",
]


@pytest.mark.parametrize("url", LISTS)
def test_every_list_is_a_cursor_page(api_client, url):
    assert set(api_client.get(url).json()) == {"next", "previous", "results"}


@pytest.mark.parametrize("url", LISTS)
def test_a_cursor_the_list_did_not_give_is_a_400(api_client, url):
    error = _error(api_client.get(f"{url}?cursor=garbage"), status=400, code="cursor_invalid")
    assert list(error["fields"]) == ["cursor"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("size", ["0", "-1", "abc", "1000", ""])
def test_a_page_size_out_of_range_is_a_400(api_client, url, size):
    error = _error(api_client.get(f"{url}?page_size={size}"), status=400, code="page_size_invalid")
    assert list(error["fields"]) == ["page_size"]


def test_page_size_within_range_pages(api_client, project):
    for name in ("a_one", "b_two", "c_three"):
        factories.TemplateFactory(project=project, name=name)
    first = api_client.get("/api/v1/templates/?page_size=2").json()
    second = api_client.get(first["next"]).json()
    assert [t["name"] for t in first["results"] + second["results"]] == [
        "a_one",
        "b_two",
        "c_three",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/templates/?status=bogus",
        "/api/v1/messages/?status=bogus",
        "/api/v1/messages/?direction=sideways",
    ],
)
def test_a_filter_value_the_list_does_not_take_is_a_400(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("filter_invalid", "invalid")
    assert response.json()["error"]["fields"]


# --- Defect 8: error bodies are bounded -------------------------------------------------------


def test_an_error_about_200000_fields_stays_small(api_client, greeting):
    params = {f"p{n}": "x" for n in range(200_000)}
    body = json.dumps({**HSM, "params": params})
    assert len(body) > 2_000_000
    response = api_client.post("/api/v1/messages/hsm/", body, content_type="application/json")
    assert response.status_code == 400
    assert len(response.content) < 20_000
    assert not Message.objects.exists()


def test_a_body_with_200000_unknown_fields_gets_a_small_answer(api_client):
    body = json.dumps({f"f{n}": 1 for n in range(200_000)})
    response = api_client.post("/api/v1/messages/text/", body, content_type="application/json")
    error = _error(response, status=400, code="unknown_field")
    assert len(error["fields"]) == 20
    assert "more fields" in error["message"]
    assert len(response.content) < 20_000


# --- Defect 9 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/", "/api/v2/messages/", "/api/v1"])
def test_urls_under_api_answer_json_404s_in_debug_too(client, settings, url):
    settings.DEBUG = True
    response = client.get(url)
    if response.status_code == 301:  # /api/v1 -> /api/v1/ (the GET is redirected)
        response = client.get(response["Location"])
    _error(response, status=404, code="not_found")


def test_a_bearer_token_is_told_to_use_the_api_key_scheme(client, api_key):
    response = client.get("/api/v1/messages/", HTTP_AUTHORIZATION=f"Bearer {api_key[0]}")
    error = _error(response, status=401, code="authorization_scheme_invalid")
    assert "Api-Key" in error["message"]
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_no_credentials_name_the_api_key_scheme(client):
    response = client.get("/api/v1/messages/")
    assert "Api-Key" in _error(response, status=401, code="not_authenticated")["message"]
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_refreshing_a_message_that_failed_with_601_says_it_failed(api_client, project):
    message = factories.MessageFactory(
        project=project,
        status=Message.Status.FAILED,
        wappin_message_id="",
        failure_code="601",
        failure_reason="Contact invalid",
    )
    response = api_client.post(f"/api/v1/messages/{message.pk}/refresh-status/")
    error = _error(response, status=409, code="message_failed")
    assert "Contact invalid" in error["message"]
    assert "has not given this message an id yet" not in error["message"]


# --- Defect 3 and the RateLimit headers -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_throttle_lets_exactly_its_limit_through_200_concurrent_requests(
    project, monkeypatch, settings
):
    import threading

    from django.core.management import call_command
    from django.db import connection

    from rest_framework.test import APIClient

    from projects.authentication import ApiKeyRateThrottle
    from projects.services import api_key_create

    # Given the embedded default's database cache (where add-then-incr let 76 of 200 through),
    # a 50/min limit, and a clock in the middle of a window (no edge to cross)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "throttle_test_cache",
        }
    }
    call_command("createcachetable", verbosity=0)
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "50/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_000_050.0)
    raw_key = api_key_create(project=project, name="burst").raw_key
    threads, per_thread = 20, 10
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def burst():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
        barrier.wait()
        try:
            for _ in range(per_thread):
                status = client.get("/api/v1/templates/").status_code
                with lock:
                    statuses.append(status)
        finally:
            connection.close()

    # When 20 clients send 10 requests each at once (the database cache once let 76 through)
    workers = [threading.Thread(target=burst) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # Then exactly 50 get through
    assert len(statuses) == 200
    assert statuses.count(200) == 50
    assert statuses.count(429) == 150


def test_every_api_answer_says_its_rate_limit_and_a_429_when_to_retry(api_client, monkeypatch):
    from projects.authentication import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_000_035.5)  # 15.5 s in
    first, second, third = (api_client.get("/api/v1/messages/") for _ in range(3))
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("2", "1")
    assert first["RateLimit-Reset"] == "45"
    assert second["RateLimit-Remaining"] == "0"
    _error(third, status=429, code="throttled")
    assert (third["RateLimit-Remaining"], third["Retry-After"]) == ("0", "45")


def test_an_accepted_send_says_where_to_follow_it(api_client, greeting):
    response = api_client.post("/api/v1/messages/hsm/", HSM, format="json")
    assert response.status_code == 202
    location = response["Location"]
    assert location.endswith(f"/api/v1/messages/{response.json()['id']}/")
    assert api_client.get(location).json()["id"] == response.json()["id"]


# --- Defect 2: the schema matches the answers ---------------------------------------------------


def _openapi_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _as_json_schema(node):
    """OpenAPI 3.0's `nullable: true` is JSON Schema's `null` among the types."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


def _assert_matches_schema(body, *, path: str, method: str, status: str) -> None:
    import jsonschema

    schema = _openapi_schema()
    response = schema["paths"][path][method]["responses"][status]
    validator = jsonschema.Draft202012Validator(
        _as_json_schema(
            {
                "components": schema["components"],
                **response["content"]["application/json"]["schema"],
            }
        )
    )
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(body)]
    assert errors == []


def test_a_message_without_media_matches_the_schema(api_client, project):
    message = factories.MessageFactory(project=project, media_type="")
    body = api_client.get(f"/api/v1/messages/{message.pk}/").json()
    assert body["media_type"] == ""
    _assert_matches_schema(body, path="/api/v1/messages/{message_id}/", method="get", status="200")


def test_template_bodies_are_json_only_in_the_schema():
    # Multipart and urlencoded forms cannot carry `languages` (a list of objects).
    paths = _openapi_schema()["paths"]
    for path, method in [
        ("/api/v1/templates/", "post"),
        ("/api/v1/templates/{id}/", "put"),
        ("/api/v1/templates/{id}/", "patch"),
        ("/api/v1/templates/{id}/preview/", "post"),
    ]:
        assert list(paths[path][method]["requestBody"]["content"]) == ["application/json"]


# --- Defect 7: the timeline reads in order ------------------------------------------------------


def test_a_wappin_step_in_the_same_second_as_the_portals_own_reads_after_it(api_client, project):
    from datetime import datetime, timedelta

    from django.utils import timezone

    from messaging.models import MessageStatusEvent
    from messaging.sending.services import message_status_record

    # Given a message queued by the portal at 13:14:42.579 (microseconds)
    queued_at = timezone.make_aware(datetime(2026, 3, 10, 13, 14, 42, 579000))
    message = factories.MessageFactory(
        project=project, status=Message.Status.QUEUED, created_at=queued_at
    )
    MessageStatusEvent.objects.create(
        message=message, status="queued", occurred_at=queued_at, source="portal"
    )
    # When Wappin's callbacks say `sent` then `delivered` at 13:14:42 (whole seconds: before
    # the portal's own step), and the portal's inquiry later says `sent` at 13:14:42.700
    wappin_second = queued_at.replace(microsecond=0)
    for status in ("sent", "delivered"):
        message_status_record(
            message_id=message.pk, status=status, source="callback", occurred_at=wappin_second
        )
    message_status_record(
        message_id=message.pk,
        status="sent",
        source="inquiry",
        occurred_at=queued_at + timedelta(milliseconds=121),
    )

    # Then the timeline reads queued, then the sents, then delivered; the *_at fields agree
    body = api_client.get(f"/api/v1/messages/{message.pk}/").json()
    assert [step["status"] for step in body["timeline"]] == ["queued", "sent", "sent", "delivered"]
    assert body["created_at"] <= body["sent_at"] <= body["delivered_at"]


# --- Coverage: stats, template deactivate/reactivate, a message's media -------------------------


def test_stats_give_the_dashboards_figures_overall_and_per_template(api_client, project):
    shipped = factories.TemplateFactory(project=project, name="order_shipped")
    promo = factories.TemplateFactory(project=project, name="promo")
    for status in ("delivered", "read", "failed"):
        factories.MessageFactory(
            project=project, kind="hsm", template=shipped, template_name=shipped.name, status=status
        )
    factories.MessageFactory(
        project=project, kind="hsm", template=promo, template_name=promo.name, status="read"
    )
    body = api_client.get("/api/v1/stats/?days=7").json()
    assert (body["days"], body["outgoing"], body["delivered"], body["read"], body["failed"]) == (
        7,
        4,
        3,
        2,
        1,
    )
    assert [(t["template_name"], t["outgoing"], t["read"]) for t in body["templates"]] == [
        ("order_shipped", 3, 1),
        ("promo", 1, 1),
    ]
    assert body["templates"][0]["delivery_rate"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("days", ["0", "-3", "abc", "366", ""])
def test_stats_refuse_a_period_out_of_range(api_client, days):
    _error(api_client.get(f"/api/v1/stats/?days={days}"), status=400, code="filter_invalid")


def test_a_template_is_deactivated_and_reactivated_through_the_api(project, api_client):
    from rest_framework.test import APIClient

    from projects.models import ApiKey, Membership
    from projects.services import api_key_create

    template = factories.TemplateFactory(project=project, name="promo", status="approved")
    deactivated = api_client.post(
        f"/api/v1/templates/{template.pk}/deactivate/", {"reason": "Season over"}, format="json"
    )
    assert (deactivated.status_code, deactivated.json()["status"]) == (200, "inactive")
    again = api_client.post(f"/api/v1/templates/{template.pk}/deactivate/", {}, format="json")
    _error(again, status=409, code="template_status_invalid")
    # A developer's key may not undo a deactivation: an admin's job
    _error(
        api_client.post(f"/api/v1/templates/{template.pk}/reactivate/", {}, format="json"),
        status=403,
        code="role_not_allowed",
    )
    admin = APIClient()
    created = api_key_create(project=project, name="admin")
    ApiKey.objects.filter(pk=created.api_key.pk).update(role=Membership.Role.ADMIN)
    raw = created.raw_key
    admin.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    reactivated = admin.post(f"/api/v1/templates/{template.pk}/reactivate/", {}, format="json")
    assert (reactivated.status_code, reactivated.json()["status"]) == (200, "approved")


def test_a_messages_media_is_downloaded_through_the_api(api_client, project):
    from django.core.files.base import ContentFile

    with_media = factories.MessageFactory(project=project, kind="media", media_type="image")
    with_media.media.save("promo.png", ContentFile(b"\x89PNG fake"), save=True)
    without = factories.MessageFactory(project=project)
    response = api_client.get(f"/api/v1/messages/{with_media.pk}/media/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG fake"
    assert response["Content-Type"] == "image/png"
    _error(
        api_client.get(f"/api/v1/messages/{without.pk}/media/"), status=404, code="media_not_found"
    )
    other = factories.MessageFactory(kind="media", media_type="image")
    _error(
        api_client.get(f"/api/v1/messages/{other.pk}/media/"), status=404, code="message_not_found"
    )


def test_a_blasts_answers_match_the_schema_before_and_after_it_is_cancelled(api_client, project):
    from messaging.models import ContactGroup

    # Found by `make fuzz`: a cancelled blast's `reach` is null, and the recipients are a page
    template = factories.TemplateFactory(project=project, name="weekend_promo")
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}!")
    group = ContactGroup.objects.create(project=project, name="VIP")
    group.contacts.add(factories.ContactFactory(project=project, phone_number="6281234567890"))
    blast = api_client.post(
        "/api/v1/blasts/",
        {
            "name": "June",
            "template": "weekend_promo",
            "group": group.pk,
            "params": {"1": {"text": "Budi"}},
        },
        format="json",
    ).json()
    detail = "/api/v1/blasts/{blast_id}/"
    draft = api_client.get(f"/api/v1/blasts/{blast['id']}/").json()
    assert draft["reach"] is not None
    _assert_matches_schema(draft, path=detail, method="get", status="200")
    cancelled = api_client.post(f"/api/v1/blasts/{blast['id']}/cancel/").json()
    assert cancelled["reach"] is None
    _assert_matches_schema(cancelled, path=f"{detail}cancel/", method="post", status="200")
    recipients = api_client.get(f"/api/v1/blasts/{blast['id']}/recipients/").json()
    _assert_matches_schema(recipients, path=f"{detail}recipients/", method="get", status="200")


@pytest.mark.parametrize(
    "query", ["project=abc", "project=abc&project=", "project=999999", "project=1&project=2"]
)
def test_an_api_key_naming_a_project_not_its_own_is_refused(api_client, project, query):
    # Found by `make fuzz`: `project` was ignored for API keys (the last of several values, too)
    response = api_client.get(f"/api/v1/messages/?{query}")
    _error(response, status=404, code="project_not_found")
    assert api_client.get(f"/api/v1/messages/?project={project.pk}").status_code == 200


def test_a_multipart_body_without_a_part_is_a_400_not_an_empty_change(api_client, project):
    # Found by `make fuzz`: garbage after a boundary parsed as `{}`, and a PATCH answered 200
    keyword = factories.ChatbotKeywordFactory(project=project, keyword="promo")
    boundary = "c54b56f8ce1db3bd4a380bef812b1750"
    response = api_client.generic(
        "PATCH",
        f"/api/v1/chatbot-keywords/{keyword.pk}/",
        f"--{boundary}\r\n0--{boundary}--\r\n",
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    _error(response, status=400, code="parse_error")
