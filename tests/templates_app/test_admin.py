"""The admin screens save and act through the services."""

import pytest

from templates_app.models import ChatbotKeyword, Template
from tests import factories

pytestmark = pytest.mark.django_db


def _inline(total=1, initial=0, **first) -> dict:
    data = {
        "languages-TOTAL_FORMS": str(total),
        "languages-INITIAL_FORMS": str(initial),
        "languages-MIN_NUM_FORMS": "0",
        "languages-MAX_NUM_FORMS": "1000",
        "languages-0-language_code": "id",
        "languages-0-position": "0",
        "languages-0-header_type": "none",
        "languages-0-body": "Halo {{1}}.",
        "languages-0-buttons": "[]",
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
    }
    data.update({f"languages-0-{key}": value for key, value in first.items()})
    return data


def test_admin_lists_templates_with_filters(admin_client, project):
    factories.TemplateFactory(project=project, name="order_shipped")
    page = admin_client.get(
        "/admin/templates_app/template/?status__exact=approved"
    ).content.decode()
    assert "order_shipped" in page


def test_admin_creates_a_template_through_the_service(admin_client, project, admin_user):
    response = admin_client.post(
        "/admin/templates_app/template/add/",
        {"project": project.pk, "name": "admin_made", "message_type": "utility", **_inline()},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template = Template.objects.get(name="admin_made")
    assert template.status == "draft" and template.created_by == admin_user
    assert template.status_changes.count() == 1
    assert template.languages.get().body_param_count == 1


def test_admin_shows_the_services_errors_on_the_language(admin_client, project):
    response = admin_client.post(
        "/admin/templates_app/template/add/",
        {
            "project": project.pk,
            "name": "gap",
            "message_type": "utility",
            **_inline(body="Halo {{2}}"),
        },
    )
    assert response.status_code == 200
    assert "{{1}} is missing" in response.content.decode()
    assert not Template.objects.filter(name="gap").exists()


def test_admin_actions_approve_and_reject_through_the_services(admin_client, project):
    first = factories.TemplateFactory(project=project, status="on_process")
    second = factories.TemplateFactory(project=project, status="on_process")
    draft = factories.TemplateFactory(project=project, status="draft")
    admin_client.post(
        "/admin/templates_app/template/",
        {"action": "approve", "_selected_action": [first.pk, draft.pk]},
    )
    admin_client.post(
        "/admin/templates_app/template/",
        {"action": "reject", "_selected_action": [second.pk], "reason": "Too promotional"},
    )
    statuses = dict(Template.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "approved", second.pk: "rejected", draft.pk: "draft"}
    assert Template.objects.get(pk=second.pk).rejection_reason == "Too promotional"
    assert first.status_changes.get().to_status == "approved"


def test_admin_creates_a_keyword_through_the_service(admin_client, project):
    factories.ChatbotKeywordFactory(project=project, keyword="halo", normalized_keyword="halo")
    data = {
        "project": project.pk,
        "keyword": "Halo Wappin",
        "template_name": "t",
        "scenario": "normal",
        "response_type": "text",
        "response_text": "Hi",
        "is_active": "on",
    }
    response = admin_client.post("/admin/templates_app/chatbotkeyword/add/", data)
    assert response.status_code == 200
    assert "would answer the same message" in response.content.decode()
    data["keyword"] = "  PROMO "
    response = admin_client.post("/admin/templates_app/chatbotkeyword/add/", data)
    assert response.status_code == 302
    assert ChatbotKeyword.objects.get(keyword="PROMO").normalized_keyword == "promo"
