"""The developers' API for templates and chatbot keywords."""

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from templates_app.models import ChatbotKeyword, Template
from tests import factories

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "name": "order_shipped",
    "message_type": "utility",
    "languages": [
        {
            "language_code": "id",
            "header_type": "text",
            "header_text": "Pesanan {{1}}",
            "body": "Halo {{1}}, pesanan {{2}} sudah dikirim.",
            "footer": "Demo Shop",
            "buttons": [
                {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
                {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
            ],
        },
        {"language_code": "en", "body": "Hello {{1}}, order {{2}} shipped."},
    ],
}


def _create(api_client) -> dict:
    response = api_client.post("/api/v1/templates/", TEMPLATE, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_create_answers_the_draft_with_derived_counts(api_client, api_key, project):
    body = _create(api_client)
    assert body["status"] == "draft"
    first = body["languages"][0]
    assert (first["language_code"], first["body_param_count"], first["header_has_param"]) == (
        "id",
        2,
        True,
    )
    template = Template.objects.get(pk=body["id"])
    assert template.project == project
    assert template.created_by is None  # an API key is not a user; the audit names the key
    from projects.models import AuditEvent

    assert AuditEvent.objects.get(action="template.create").api_key == api_key[1]


def test_create_refuses_bad_input_with_field_errors(api_client):
    bad = {
        **TEMPLATE,
        "name": "Order Shipped",
        "languages": [
            {
                "language_code": "id",
                "body": "Hi {{2}}",
                "header_type": "text",
                "header_text": "{{1}} {{2}}",
            }
        ],
    }
    response = api_client.post("/api/v1/templates/", bad, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    assert set(error["fields"]) >= {"name", "languages.0.body", "languages.0.header_text"}


def test_list_filters_by_status_and_name_within_the_keys_project(api_client, project):
    factories.TemplateFactory(project=project, name="promo_june", status="approved")
    factories.TemplateFactory(project=project, name="promo_july", status="draft")
    factories.TemplateFactory(name="promo_other_project")
    names = [t["name"] for t in api_client.get("/api/v1/templates/?name=promo").json()["results"]]
    assert names == ["promo_july", "promo_june"]
    approved = api_client.get("/api/v1/templates/?status=approved").json()["results"]
    assert [t["name"] for t in approved] == ["promo_june"]


def test_retrieve_and_another_projects_template_is_404(api_client):
    body = _create(api_client)
    assert api_client.get(f"/api/v1/templates/{body['id']}/").json()["name"] == "order_shipped"
    other = factories.TemplateFactory()
    response = api_client.get(f"/api/v1/templates/{other.pk}/")
    assert response.status_code == 404
    assert "error" in response.json()


def test_patch_a_draft_then_request_approval_locks_it(api_client):
    body = _create(api_client)
    response = api_client.patch(
        f"/api/v1/templates/{body['id']}/", {"message_type": "marketing"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["message_type"] == "marketing"
    assert len(response.json()["languages"]) == 2  # untouched

    response = api_client.post(f"/api/v1/templates/{body['id']}/request-approval/")
    assert response.status_code == 200 and response.json()["status"] == "on_process"

    response = api_client.put(f"/api/v1/templates/{body['id']}/", TEMPLATE, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "template_locked"
    response = api_client.patch(f"/api/v1/templates/{body['id']}/", {"name": "x"}, format="json")
    assert response.status_code == 409


def test_put_replaces_the_languages(api_client):
    body = _create(api_client)
    replaced = {**TEMPLATE, "languages": [{"language_code": "en", "body": "Only {{1}}"}]}
    response = api_client.put(f"/api/v1/templates/{body['id']}/", replaced, format="json")
    assert [lang["language_code"] for lang in response.json()["languages"]] == ["en"]


def test_delete_only_a_draft(api_client):
    body = _create(api_client)
    api_client.post(f"/api/v1/templates/{body['id']}/request-approval/")
    response = api_client.delete(f"/api/v1/templates/{body['id']}/")
    assert response.status_code == 409
    draft = api_client.post(
        "/api/v1/templates/", {**TEMPLATE, "name": "draft_one"}, format="json"
    ).json()
    assert api_client.delete(f"/api/v1/templates/{draft['id']}/").status_code == 204
    assert not Template.objects.filter(pk=draft["id"]).exists()


def test_preview_renders_the_message_with_the_given_params(api_client):
    body = _create(api_client)
    response = api_client.post(
        f"/api/v1/templates/{body['id']}/preview/",
        {"params": {"1": "Budi", "2": "INV-7"}, "header_param": "INV-7", "button_url": "INV-7"},
        format="json",
    )
    assert response.status_code == 200
    preview = response.json()
    assert preview["language_code"] == "id"  # empty language code: the first language
    assert preview["header"] == {"type": "text", "text": "Pesanan INV-7"}
    assert preview["body"] == "Halo Budi, pesanan INV-7 sudah dikirim."
    assert preview["buttons"][0]["url"] == "https://shop.example/track/INV-7"
    english = api_client.post(
        f"/api/v1/templates/{body['id']}/preview/", {"language_code": "en"}, format="json"
    ).json()
    assert english["body"] == "Hello [sample 1], order [sample 2] shipped."
    missing = api_client.post(
        f"/api/v1/templates/{body['id']}/preview/", {"language_code": "fr"}, format="json"
    )
    assert missing.status_code == 404


def test_the_api_needs_a_key(client, db):
    assert client.get("/api/v1/templates/").status_code in (401, 403)


def test_a_session_user_names_the_project(admin_client, project):
    factories.TemplateFactory(project=project, name="mine")
    response = admin_client.get(f"/api/v1/templates/?project={project.pk}")
    assert [t["name"] for t in response.json()["results"]] == ["mine"]


# --- keywords -----------------------------------------------------------------------


def test_keyword_crud_with_json(api_client, project):
    response = api_client.post(
        "/api/v1/chatbot-keywords/",
        {"keyword": " Promo ", "template_name": "promo_reply", "response_text": "Diskon 20%!"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["keyword"], body["normalized_keyword"]) == ("Promo", "promo")
    listed = api_client.get("/api/v1/chatbot-keywords/").json()["results"]
    assert [k["keyword"] for k in listed] == ["Promo"]

    response = api_client.patch(
        f"/api/v1/chatbot-keywords/{body['id']}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["response_text"]) == (
        False,
        "Diskon 20%!",
    )

    assert api_client.delete(f"/api/v1/chatbot-keywords/{body['id']}/").status_code == 204
    assert not ChatbotKeyword.objects.exists()


def test_keyword_overlap_is_refused_on_the_keyword_field(api_client, project):
    factories.ChatbotKeywordFactory(project=project, keyword="halo", normalized_keyword="halo")
    response = api_client.post(
        "/api/v1/chatbot-keywords/",
        {"keyword": "HALO wappin", "template_name": "t", "response_text": "Hi"},
        format="json",
    )
    # A duplicate is a conflict with what exists (409), as for contacts (issue 11, defect 5)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "keyword_exists"
    assert "keyword" in response.json()["error"]["fields"]


def test_keyword_with_media_by_multipart(api_client, project):
    response = api_client.post(
        "/api/v1/chatbot-keywords/",
        {
            "keyword": "voice",
            "template_name": "voice_reply",
            "response_type": "audio",
            "response_media": SimpleUploadedFile("hello.ogg", b"OggS...", content_type="audio/ogg"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["response_media"].endswith(".ogg")
    refused = api_client.post(
        "/api/v1/chatbot-keywords/",
        {
            "keyword": "movie",
            "template_name": "movie",
            "response_type": "image",
            "response_media": SimpleUploadedFile("movie.mp4", b"....", content_type="video/mp4"),
        },
        format="multipart",
    )
    assert refused.status_code == 400
    assert "response_media" in refused.json()["error"]["fields"]


def test_a_keyword_image_that_is_text_inside_is_refused(api_client, project):
    response = api_client.post(
        "/api/v1/chatbot-keywords/",
        {
            "keyword": "promo",
            "template_name": "promo",
            "response_type": "image",
            "response_media": SimpleUploadedFile("promo.png", b"<html>", content_type="image/png"),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["response_media"] == [
        "'promo.png' is not a real PNG file: its content is something else."
    ]


def test_schema_documents_the_template_endpoints(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/v1/templates/{id}/preview/" in paths
    assert "409" in paths["/api/v1/templates/{id}/"]["put"]["responses"]
    assert "/api/v1/chatbot-keywords/" in paths
