"""The portal's script (static/js/portal.js) under its strict CSP: confirmations and auto-submits."""

import pytest

from projects.models import ApiKey
from projects.services import api_key_create
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_revoking_a_key_asks_first_and_a_filter_applies_on_change(
    logged_in_page, live_server, project, admin_user
):
    key = api_key_create(project=project, name="order service", created_by=admin_user).api_key
    page = logged_in_page
    errors = []
    # Every error counts, a missing resource too (the favicon is static/favicon.svg)
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    # When the admin clicks Revoke and dismisses the question, nothing happens
    page.goto(f"{live_server.url}/api-keys/")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("button.danger")
    page.wait_for_load_state("networkidle")
    assert questions == ["Revoke order service? Calls with it will answer 401."]
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None

    # ... and when they accept, the key is revoked
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.danger")
    page.wait_for_selector("text=is revoked")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None

    # And the templates' status filter applies as soon as it is changed (no button)
    factories.TemplateFactory(project=project, name="shipped_notice")
    page.goto(f"{live_server.url}/templates/")
    page.select_option("#status", "approved")
    page.wait_for_url("**/templates/?status=approved")
    assert errors == []  # no script refused by the policy, no error


def test_the_api_docs_run_under_the_policy(logged_in_page, live_server):
    page = logged_in_page
    refused = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".opblock-tag", has_text="messages").first.wait_for()
    assert refused == []
