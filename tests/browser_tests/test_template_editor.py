"""The template editor's live WhatsApp preview (static/js/portal.js), under the portal's CSP."""

import pytest

from templates_app.models import Template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_preview_follows_what_is_typed_with_sample_values(logged_in_page, live_server):
    page = logged_in_page
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/templates/new/")
    preview = page.locator('[data-template-preview="languages-0"]')
    # Given an empty editor, the bubble says where the body will show
    preview.locator(".wa-body", has_text="The body appears here as you type.").wait_for()

    # When the marketer types a header, a body with variables, a footer and buttons
    page.fill("#id_name", "order_shipped")
    page.fill("#id_languages-0-language_code", "id")
    page.select_option("#id_languages-0-header_type", "text")
    page.fill("#id_languages-0-header_text", "Pesanan {{1}}")
    page.fill("#id_languages-0-body", "Halo *{{1}}*, pesanan {{2}} <b>dikirim</b>.")
    page.fill("#id_languages-0-footer", "Demo Shop")
    page.fill("#id_languages-0-url_button_text", "Lacak")
    page.fill("#id_languages-0-url_button_url", "https://shop.example/track/{{1}}")
    page.fill("#id_languages-0-quick_replies", "Terima kasih | thanks\nBantuan")

    # Then the bubble shows each part, the variables as samples, *bold* as WhatsApp does,
    # and typed markup as text
    preview.locator(".wa-header", has_text="Pesanan [sample 1]").wait_for()
    body = preview.locator(".wa-body")
    assert body.inner_text() == "Halo [sample 1], pesanan [sample 2] <b>dikirim</b>."
    assert body.locator("strong").inner_text() == "[sample 1]"
    assert preview.locator(".wa-footer").inner_text() == "Demo Shop"
    assert preview.locator(".wa-buttons span").all_inner_texts() == [
        "\u2197 Lacak",
        "Terima kasih",
        "Bantuan",
    ]

    # When a sample value is typed for {{2}}, the bubble uses it
    page.get_by_label("Sample for {{2}}").first.fill("INV-7")
    preview.locator(".wa-body", has_text="pesanan INV-7").wait_for()

    # And the samples are not saved with the draft
    page.click("button.primary")
    page.locator("h1", has_text="order_shipped").wait_for()
    language = Template.objects.get(name="order_shipped").languages.get()
    assert language.body == "Halo *{{1}}*, pesanan {{2}} <b>dikirim</b>."
    assert errors == []
