"""The "send a test message" form: fields from the template, role checks and refusals."""

from __future__ import annotations

import pytest

from messaging.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_update(project):
    """An approved template with a header variable, two body params and a URL button param."""
    template = factories.TemplateFactory(project=project, name="order_update")
    factories.TemplateLanguageFactory(
        template=template, language_code="id", header_type="text", header_text="Pesanan {{1}}",
        body="Halo {{1}}, pesanan {{2}} sudah dikirim.",
        buttons=[{"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"}],
    )
    factories.TemplateLanguageFactory(template=template, language_code="en", position=1, body="Hi {{1}}")
    return template


def test_form_has_a_field_for_each_placeholder_of_the_chosen_language(marketer_client, order_update):
    page = marketer_client.get("/history/test-send/", {"template": "order_update"}).content.decode()
    for name in ("recipient_number", "header_param", "param_1", "param_2", "button_url"):
        assert f'name="{name}"' in page
    assert 'name="param_3"' not in page
    assert "Halo {{1}}, pesanan {{2}} sudah dikirim." in page  # the preview
    # Another language has its own fields.
    english = marketer_client.get("/history/test-send/", {"template": "order_update", "language": "en"})
    english_page = english.content.decode()
    assert 'name="param_1"' in english_page and 'name="param_2"' not in english_page
    assert 'name="header_param"' not in english_page


def test_quick_reply_buttons_get_optional_payload_fields(marketer_client, project):
    template = factories.TemplateFactory(project=project, name="survey")
    factories.TemplateLanguageFactory(
        template=template, body="Happy?", buttons=[
            {"type": "quick_reply", "text": "Yes", "payload": "yes"},
            {"type": "quick_reply", "text": "No", "payload": "no"},
        ],
    )
    page = marketer_client.get("/history/test-send/", {"template": "survey"}).content.decode()
    assert 'name="reply_1"' in page and 'name="reply_2"' in page
    assert "Quick reply “Yes” payload" in page


def test_a_media_header_asks_for_a_file(marketer_client, project):
    template = factories.TemplateFactory(project=project, name="brochure")
    factories.TemplateLanguageFactory(template=template, header_type="document", body="Our brochure")
    page = marketer_client.get("/history/test-send/", {"template": "brochure"}).content.decode()
    assert 'type="file"' in page and 'name="media"' in page
    assert 'enctype="multipart/form-data"' in page


def test_only_approved_templates_of_the_project_are_offered(marketer_client, project, order_update):
    factories.TemplateLanguageFactory(
        template=factories.TemplateFactory(project=project, name="still_draft", status="draft")
    )
    factories.TemplateLanguageFactory(template=factories.TemplateFactory(name="other_project_tpl"))
    page = marketer_client.get("/history/test-send/").content.decode()
    assert "order_update" in page
    assert "still_draft" not in page and "other_project_tpl" not in page
    # Asking for them by name shows no form.
    for name in ("still_draft", "other_project_tpl"):
        page = marketer_client.get("/history/test-send/", {"template": name}).content.decode()
        assert 'name="recipient_number"' not in page


def test_missing_params_are_refused_field_by_field(marketer_client, order_update):
    response = marketer_client.post(
        "/history/test-send/",
        {"template": "order_update", "language": "id", "recipient_number": "081234567001", "param_1": "Budi"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("This field is required.") == 3  # header, {{2}}, URL button
    assert not Message.objects.exists()


def test_a_developer_may_not_send(client, project, order_update):
    developer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=developer, role="developer")
    client.force_login(developer)
    response = client.post(
        "/history/test-send/",
        {"template": "order_update", "language": "en", "recipient_number": "081234567001", "param_1": "x"},
    )
    assert response.status_code == 403
    assert "may look at contacts and history" in response.content.decode()
    assert not Message.objects.exists()


def test_the_history_page_links_to_the_test_send(marketer_client, project):
    assert "/history/test-send/" in marketer_client.get("/history/").content.decode()


def test_without_approved_templates_the_page_says_so(marketer_client, project):
    page = marketer_client.get("/history/test-send/").content.decode()
    assert "has no approved template yet" in page
