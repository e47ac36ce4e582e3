"""The marketing team's pages: they render, and posting them goes through the services."""

import re

from django.core.files.uploadedfile import SimpleUploadedFile

import pytest

from templates_app.models import ChatbotKeyword, Template
from tests import factories

pytestmark = pytest.mark.django_db


def _language_post(prefix="languages", total=2, **first) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "1",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-language_code": "id",
        f"{prefix}-0-header_type": "text",
        f"{prefix}-0-header_text": "Pesanan {{1}}",
        f"{prefix}-0-body": "Halo *{{1}}*, pesanan {{2}} sudah dikirim.",
        f"{prefix}-0-footer": "Demo Shop",
        f"{prefix}-0-url_button_text": "Lacak",
        f"{prefix}-0-url_button_url": "https://shop.example/track/{{1}}",
        f"{prefix}-0-quick_replies": "Terima kasih | thanks\nBantuan",
        f"{prefix}-1-header_type": "none",
    }
    data.update({f"{prefix}-0-{key}": value for key, value in first.items()})
    return data


def _approved_template(project, name="order_shipped", status="approved"):
    template = factories.TemplateFactory(project=project, name=name, status=status)
    factories.TemplateLanguageFactory(template=template, footer="Demo Shop")
    return template


def test_template_list_shows_templates_with_status_badges_and_filters(marketer_client, project):
    _approved_template(project, "order_shipped")
    _approved_template(project, "draft_one", status="draft")
    _approved_template(factories.ProjectFactory(), "not_mine")
    page = marketer_client.get("/templates/").content.decode()
    assert "order_shipped" in page and "draft_one" in page and "not_mine" not in page
    assert "badge badge-approved" in page
    filtered = marketer_client.get("/templates/?status=draft").content.decode()
    assert "draft_one" in filtered and "order_shipped" not in filtered


def test_template_pages_require_login(client):
    response = client.get("/templates/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_creating_a_template_in_the_form_makes_a_draft_with_its_buttons(
    marketer_client, project, marketer
):
    assert marketer_client.get("/templates/new/").status_code == 200
    response = marketer_client.post(
        "/templates/new/", {"name": "order_shipped", "message_type": "utility", **_language_post()}
    )
    template = Template.objects.get(project=project, name="order_shipped")
    assert response.status_code == 302 and response["Location"] == f"/templates/{template.pk}/"
    language = template.languages.get()
    assert language.buttons == [
        {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
        {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
        {"type": "quick_reply", "text": "Bantuan", "payload": "Bantuan"},
    ]
    assert template.created_by == marketer


def test_a_bad_template_shows_field_errors_on_the_form(marketer_client, project):
    response = marketer_client.post(
        "/templates/new/",
        {
            "name": "Order Shipped",
            "message_type": "utility",
            **_language_post(body="Halo {{1}} {{3}}"),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Use lowercase letters, digits and &#x27;_&#x27; only" in page
    assert "{{2}} is missing" in page
    assert not Template.objects.exists()


def test_detail_shows_the_preview_and_history(marketer_client, project):
    template = _approved_template(project)
    page = marketer_client.get(f"/templates/{template.pk}/").content.decode()
    assert 'class="wa-bubble"' in page
    assert "Halo [sample 1], pesanan [sample 2] sudah dikirim." in page
    assert "Demo Shop" in page
    assert "Status history" in page


def test_the_preview_shows_whatsapp_formatting_escaped(marketer_client, project):
    template = factories.TemplateFactory(project=project, status="draft")
    factories.TemplateLanguageFactory(
        template=template, body="*Promo* <script>alert(1)</script> {{1}}"
    )
    page = marketer_client.get(f"/templates/{template.pk}/").content.decode()
    assert "<strong>Promo</strong>" in page
    assert "<script>alert(1)</script>" not in page


def test_request_approval_then_the_edit_page_is_refused(marketer_client, project):
    # Given a draft made in the UI
    marketer_client.post(
        "/templates/new/", {"name": "order_shipped", "message_type": "utility", **_language_post()}
    )
    template = Template.objects.get(name="order_shipped")
    # When the marketer requests approval
    response = marketer_client.post(f"/templates/{template.pk}/request-approval/", follow=True)
    assert "is on process" in response.content.decode()
    template.refresh_from_db()
    assert template.status == "on_process"
    # Then editing is refused with the document's words
    response = marketer_client.get(f"/templates/{template.pk}/edit/", follow=True)
    assert "once its submission is &#x27;On Process&#x27;" in response.content.decode()
    response = marketer_client.post(
        f"/templates/{template.pk}/edit/",
        {"name": "renamed", "message_type": "utility", **_language_post()},
    )
    template.refresh_from_db()
    assert template.name == "order_shipped"


def test_editing_a_draft_keeps_untouched_languages(marketer_client, project):
    template = factories.TemplateFactory(project=project, status="draft", name="two_langs")
    factories.TemplateLanguageFactory(template=template, language_code="id", position=0)
    factories.TemplateLanguageFactory(
        template=template, language_code="en", position=1, body="Hello {{1}} {{2}}"
    )
    page = marketer_client.get(f"/templates/{template.pk}/edit/").content.decode()
    assert 'value="en"' in page
    data = {
        "name": "two_langs",
        "message_type": "marketing",
        "languages-TOTAL_FORMS": "3",
        "languages-INITIAL_FORMS": "2",
        "languages-MIN_NUM_FORMS": "1",
        "languages-MAX_NUM_FORMS": "1000",
        "languages-0-language_code": "id",
        "languages-0-header_type": "none",
        "languages-0-body": "Halo {{1}}, pesanan {{2}} sudah dikirim.",
        "languages-1-language_code": "en",
        "languages-1-header_type": "none",
        "languages-1-body": "Hello {{1}} {{2}}",
        "languages-2-header_type": "none",
    }
    response = marketer_client.post(f"/templates/{template.pk}/edit/", data)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.message_type == "marketing"
    assert [lang.language_code for lang in template.languages.all()] == ["id", "en"]


def test_only_an_admin_sees_and_uses_approve_and_reject(
    marketer_client, project, admin_user, client
):
    template = _approved_template(project, status="on_process")
    page = marketer_client.get(f"/templates/{template.pk}/").content.decode()
    assert "Record WhatsApp" not in page
    response = marketer_client.post(f"/templates/{template.pk}/approve/", follow=True)
    assert "may not do this" in response.content.decode()
    template.refresh_from_db()
    assert template.status == "on_process"

    client.force_login(admin_user)
    page = client.get(f"/templates/{template.pk}/").content.decode()
    assert "Record WhatsApp" in page
    assert 'data-confirm="Reject order_shipped? It cannot be sent' in page
    client.post(f"/templates/{template.pk}/reject/", {"reason": "Looks like spam"})
    template.refresh_from_db()
    assert (template.status, template.rejection_reason) == ("rejected", "Looks like spam")
    assert "Looks like spam" in client.get(f"/templates/{template.pk}/").content.decode()


def test_deactivate_and_delete_from_the_detail_page(marketer_client, project):
    template = _approved_template(project)
    marketer_client.post(f"/templates/{template.pk}/deactivate/")
    template.refresh_from_db()
    assert template.status == "inactive"
    response = marketer_client.post(f"/templates/{template.pk}/delete/", follow=True)
    assert "Only a draft can be deleted" in response.content.decode()
    draft = _approved_template(project, "draft_one", status="draft")
    marketer_client.post(f"/templates/{draft.pk}/delete/")
    assert not Template.objects.filter(pk=draft.pk).exists()


def test_another_projects_template_is_not_found(marketer_client):
    other = _approved_template(factories.ProjectFactory(), "not_mine")
    assert marketer_client.get(f"/templates/{other.pk}/").status_code == 404


# --- keywords ---------------------------------------------------------------------


def test_keyword_list_and_create_and_edit(marketer_client, project):
    assert marketer_client.get("/templates/keywords/new/").status_code == 200
    response = marketer_client.post(
        "/templates/keywords/new/",
        {
            "keyword": "PROMO",
            "template_name": "promo_reply",
            "scenario": "normal",
            "response_type": "text",
            "response_text": "Diskon 20%!",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    keyword = ChatbotKeyword.objects.get(project=project)
    page = marketer_client.get("/templates/keywords/").content.decode()
    assert "PROMO" in page and "Diskon 20%!" in page
    marketer_client.post(
        f"/templates/keywords/{keyword.pk}/edit/",
        {
            "keyword": "promo",
            "template_name": "promo_reply",
            "scenario": "chat_panel",
            "response_type": "text",
            "response_text": "Changed",
        },
    )
    keyword.refresh_from_db()
    assert (keyword.scenario, keyword.response_text, keyword.is_active) == (
        "chat_panel",
        "Changed",
        False,
    )


def test_keyword_form_shows_the_overlap_and_media_errors(marketer_client, project):
    factories.ChatbotKeywordFactory(project=project, keyword="halo", normalized_keyword="halo")
    page = marketer_client.post(
        "/templates/keywords/new/",
        {
            "keyword": "Halo Wappin",
            "template_name": "t",
            "scenario": "normal",
            "response_type": "image",
            "response_media": SimpleUploadedFile("promo.gif", b"GIF89a", content_type="image/gif"),
        },
    ).content.decode()
    assert "would answer the same message" in page
    assert "JPG, JPEG, PNG" in page


def test_keyword_with_an_image_is_uploaded(marketer_client, project):
    marketer_client.post(
        "/templates/keywords/new/",
        {
            "keyword": "katalog",
            "template_name": "catalog",
            "scenario": "normal",
            "response_type": "document",
            "response_media": SimpleUploadedFile(
                "katalog.pdf", b"%PDF-1.4", content_type="application/pdf"
            ),
            "caption": "Katalog",
            "is_active": "on",
        },
    )
    keyword = ChatbotKeyword.objects.get()
    assert keyword.response_media.read() == b"%PDF-1.4"


def test_keyword_delete_page(marketer_client, project):
    keyword = factories.ChatbotKeywordFactory(project=project)
    marketer_client.post(f"/templates/keywords/{keyword.pk}/delete/")
    assert not ChatbotKeyword.objects.exists()


def test_default_chatbot_message_is_edited(marketer_client, project):
    page = marketer_client.get("/templates/chatbot-settings/").content.decode()
    assert "Hello! Type PROMO for today" in page
    marketer_client.post(
        "/templates/chatbot-settings/",
        {"default_chatbot_message": "Halo selamat datang di wappin!"},
    )
    project.refresh_from_db()
    assert project.default_chatbot_message == "Halo selamat datang di wappin!"


def test_nav_links_to_templates_and_chatbot(marketer_client):
    page = marketer_client.get("/templates/").content.decode()
    assert 'href="/templates/keywords/"' in page


def test_a_user_without_a_project_sees_a_clear_page(client):
    client.force_login(factories.UserFactory())
    response = client.get("/templates/")
    assert response.status_code == 200
    assert "not a member of any project" in response.content.decode()


def test_an_approved_template_links_to_the_test_send_form(marketer_client, project):
    template = _approved_template(project, name="order_shipped")
    page = marketer_client.get(f"/templates/{template.pk}/").content.decode()
    assert 'href="/history/test-send/?template=order_shipped"' in page
    draft = _approved_template(project, name="still_a_draft", status="draft")
    assert "test-send" not in marketer_client.get(f"/templates/{draft.pk}/").content.decode()


def test_keyword_whose_case_folded_form_is_over_100_characters_is_refused(marketer_client, project):
    # 100 characters, but "ß" folds to "ss": the stored, matched form (200) overflowed its column (a 500 on PostgreSQL).
    page = marketer_client.post(
        "/templates/keywords/new/",
        {
            "keyword": "ß" * 100,
            "template_name": "t",
            "scenario": "normal",
            "response_type": "text",
            "response_text": "Hi",
        },
    ).content.decode()
    assert "longer than 100 characters once its case is ignored" in page
    assert not ChatbotKeyword.objects.exists()


# --- the editor: errors once, a live preview, confirmations -----------------------------


def test_an_empty_first_language_shows_each_error_once(marketer_client):
    data = {"name": "promo", "message_type": "marketing", **_language_post()}
    data.update({"languages-0-language_code": "", "languages-0-body": ""})
    page = marketer_client.post("/templates/new/", data).content.decode()
    assert page.count("This field is required.") == 2  # the language code and the body
    assert "Please submit at least" not in page
    assert not Template.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "place"),
    [
        ("footer", "Footer with {{1}}", "languages-0-footer_error"),  # on its field
        ("url_button_url", "ftp://shop.example", "nonfield"),  # buttons: on the language
    ],
)
def test_a_services_language_error_shows_once(marketer_client, field, value, place):
    data = {"name": "promo", "message_type": "marketing", **_language_post()}
    data[f"languages-0-{field}"] = value
    page = marketer_client.post("/templates/new/", data).content.decode()
    errors = re.findall(r'<ul class="errorlist[^>]*>(.*?)</ul>', page, re.S)
    assert len(errors) == 1, errors
    assert place in page
    assert not Template.objects.exists()


def test_a_template_with_every_language_deleted_is_refused_in_words(marketer_client):
    data = {"name": "promo", "message_type": "marketing", **_language_post()}
    data["languages-0-DELETE"] = "on"
    page = marketer_client.post("/templates/new/", data).content.decode()
    assert page.count("A template needs at least one language.") == 1
    assert not Template.objects.exists()


def test_the_editor_carries_a_live_preview_per_language(marketer_client):
    page = marketer_client.get("/templates/new/").content.decode()
    assert 'data-template-preview="languages-0"' in page
    assert 'data-template-preview="languages-1"' in page
    assert "<script>" not in page  # the preview is static/js/portal.js's (CSP: no inline script)


def test_irreversible_template_and_keyword_actions_ask_first(marketer_client, project):
    draft = _approved_template(project, "draft_one", status="draft")
    approved = _approved_template(project, "live_one")
    factories.ChatbotKeywordFactory(project=project, keyword="promo")
    page = marketer_client.get(f"/templates/{draft.pk}/").content.decode()
    assert "Delete the draft draft_one and its 1 language? Its content is lost for good." in page
    page = marketer_client.get(f"/templates/{approved.pk}/").content.decode()
    assert 'data-confirm="Deactivate live_one? Blasts, tests and API calls' in page
    page = marketer_client.get("/templates/keywords/").content.decode()
    assert 'data-confirm="Delete the keyword promo? Its response is lost' in page
