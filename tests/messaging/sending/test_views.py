"""The "send a test message" form: fields from the template, role checks and refusals."""

from __future__ import annotations

import time

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import pytest

from messaging.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_update(project):
    """An approved template with a header variable, two body params and a URL button param."""
    template = factories.TemplateFactory(project=project, name="order_update")
    factories.TemplateLanguageFactory(
        template=template,
        language_code="id",
        header_type="text",
        header_text="Pesanan {{1}}",
        body="Halo {{1}}, pesanan {{2}} sudah dikirim.",
        buttons=[{"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"}],
    )
    factories.TemplateLanguageFactory(
        template=template, language_code="en", position=1, body="Hi {{1}}"
    )
    return template


def test_form_has_a_field_for_each_placeholder_of_the_chosen_language(
    marketer_client, order_update
):
    page = marketer_client.get("/history/test-send/", {"template": "order_update"}).content.decode()
    for name in ("recipient_number", "header_param", "param_1", "param_2", "button_url"):
        assert f'name="{name}"' in page
    assert 'name="param_3"' not in page
    assert "Halo {{1}}, pesanan {{2}} sudah dikirim." in page  # the preview
    # Another language has its own fields.
    english = marketer_client.get(
        "/history/test-send/", {"template": "order_update", "language": "en"}
    )
    english_page = english.content.decode()
    assert 'name="param_1"' in english_page and 'name="param_2"' not in english_page
    assert 'name="header_param"' not in english_page


def test_quick_reply_buttons_get_optional_payload_fields(marketer_client, project):
    template = factories.TemplateFactory(project=project, name="survey")
    factories.TemplateLanguageFactory(
        template=template,
        body="Happy?",
        buttons=[
            {"type": "quick_reply", "text": "Yes", "payload": "yes"},
            {"type": "quick_reply", "text": "No", "payload": "no"},
        ],
    )
    page = marketer_client.get("/history/test-send/", {"template": "survey"}).content.decode()
    assert 'name="reply_1"' in page and 'name="reply_2"' in page
    assert "Quick reply “Yes” payload" in page


def test_a_media_header_asks_for_a_file(marketer_client, project):
    template = factories.TemplateFactory(project=project, name="brochure")
    factories.TemplateLanguageFactory(
        template=template, header_type="document", body="Our brochure"
    )
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
        {
            "template": "order_update",
            "language": "id",
            "recipient_number": "081234567001",
            "param_1": "Budi",
        },
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
        {
            "template": "order_update",
            "language": "en",
            "recipient_number": "081234567001",
            "param_1": "x",
        },
    )
    assert response.status_code == 403
    assert "(developer) may not do this: only admin and marketing members may." in (
        response.content.decode()
    )
    assert not Message.objects.exists()


def test_the_history_page_links_to_the_test_send(marketer_client, project):
    assert "/history/test-send/" in marketer_client.get("/history/").content.decode()


def test_without_approved_templates_the_page_says_so(marketer_client, project):
    page = marketer_client.get("/history/test-send/").content.decode()
    assert "has no approved template yet" in page


# --- End to end: the form sends through the messaging services and the Wappin sandbox --------

CUSTOMER_NUMBER = "6281327666166"


@pytest.fixture
def registered(wappin_sandbox, project, order_update):
    """A notification integration the sandbox knows, with the project's approved templates."""
    integration = factories.IntegrationFactory(project=project)
    wappin_sandbox.register(integration)
    return integration


def test_a_marketer_sends_a_test_message_and_follows_it(
    marketer_client, marketer, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    # Given the form of order_update filled in
    form = {
        "template": "order_update",
        "language": "id",
        "recipient_number": "0813-2766-6166",
        "header_param": "INV-42",
        "param_1": "Budi",
        "param_2": "INV-42",
        "button_url": "INV-42",
    }
    # When it is posted (the send task runs when the transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post("/history/test-send/", form)
    # Then the message was sent to Wappin with those params
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/history/{message.pk}/"
    assert (message.source, message.sent_by, message.phone_number) == (
        "user",
        marketer,
        CUSTOMER_NUMBER,
    )
    assert message.wappin_message_id
    [received] = wappin_sandbox.sent(message_id=message.wappin_message_id)
    assert received["fields"]["params"] == {"1": "Budi", "2": "INV-42"}
    assert received["fields"]["header"] == {"param": "INV-42"}
    # And its detail page shows the Wappin id, the timeline and who sent it
    page = marketer_client.get(response["Location"]).content.decode()
    assert message.wappin_message_id in page
    assert "badge badge-sent" in page and "Send answer" in page
    assert marketer.username in page
    assert "Test message queued to 6281327666166" in page


def test_a_test_message_with_a_document_header(
    marketer_client, project, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    template = factories.TemplateFactory(project=project, name="invoice_ready")
    language = factories.TemplateLanguageFactory(
        template=template, header_type="document", body="Halo {{1}}, tagihan Anda terlampir."
    )
    wappin_sandbox.add_template(language)
    upload = SimpleUploadedFile(
        "invoice.pdf", b"%PDF-1.4 test invoice", content_type="application/pdf"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            "/history/test-send/",
            {
                "template": "invoice_ready",
                "language": "id",
                "recipient_number": CUSTOMER_NUMBER,
                "param_1": "Budi",
                "media": upload,
            },
        )
    message = Message.objects.get()
    assert response.status_code == 302
    assert message.kind == "hsm_media" and message.wappin_message_id
    page = marketer_client.get(f"/history/{message.pk}/").content.decode()
    assert "invoice" in page and ".pdf" in page  # the media link


def test_a_wrong_file_type_for_the_header_is_refused_on_its_field(
    marketer_client, project, registered
):
    template = factories.TemplateFactory(project=project, name="invoice_ready")
    factories.TemplateLanguageFactory(
        template=template, header_type="document", body="Tagihan {{1}}"
    )
    upload = SimpleUploadedFile("photo.exe", b"MZ", content_type="application/octet-stream")
    response = marketer_client.post(
        "/history/test-send/",
        {
            "template": "invoice_ready",
            "recipient_number": CUSTOMER_NUMBER,
            "param_1": "Budi",
            "media": upload,
        },
    )
    assert response.status_code == 200
    assert 'class="field has-error"' in response.content.decode()
    assert not Message.objects.exists()


def test_an_invalid_recipient_is_refused_with_the_reason(marketer_client, registered):
    response = marketer_client.post(
        "/history/test-send/",
        {
            "template": "order_update",
            "language": "en",
            "recipient_number": "0812",
            "param_1": "Budi",
        },
    )
    page = response.content.decode()
    assert "0812" in page and ("too short" in page or "not a valid phone number" in page)
    assert not Message.objects.exists()


def test_an_opted_out_contact_gets_no_marketing_test(marketer_client, project, registered):
    factories.ContactFactory(
        project=project, phone_number=CUSTOMER_NUMBER, opted_out_at=timezone.now()
    )
    template = factories.TemplateFactory(
        project=project, name="promo_week", message_type="marketing"
    )
    factories.TemplateLanguageFactory(template=template, body="Diskon {{1}}!")
    response = marketer_client.post(
        "/history/test-send/",
        {"template": "promo_week", "recipient_number": CUSTOMER_NUMBER, "param_1": "20%"},
    )
    assert "opted out" in response.content.decode()
    assert not Message.objects.exists()


def test_a_project_without_integration_is_told_so(marketer_client, order_update):
    response = marketer_client.post(
        "/history/test-send/",
        {
            "template": "order_update",
            "language": "en",
            "recipient_number": CUSTOMER_NUMBER,
            "param_1": "Budi",
        },
    )
    assert "integration" in response.content.decode()
    assert not Message.objects.exists()


def test_refresh_status_asks_wappins_inquiry(
    marketer_client, registered, wappin_sandbox, django_capture_on_commit_callbacks
):
    # Given a test message Wappin accepted
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(
            "/history/test-send/",
            {
                "template": "order_update",
                "language": "id",
                "recipient_number": CUSTOMER_NUMBER,
                "header_param": "INV-1",
                "param_1": "Budi",
                "param_2": "INV-1",
                "button_url": "INV-1",
            },
        )
    message = Message.objects.get()
    # ... and whose status Wappin (the sandbox) has since moved on
    deadline = time.monotonic() + 10
    while not wappin_sandbox.sent(message_id=message.wappin_message_id)[0]["timeline"]:
        assert time.monotonic() < deadline, "the sandbox never moved the message's status"
        time.sleep(0.05)
    # When the user presses "Refresh status from Wappin"
    response = marketer_client.post(f"/history/{message.pk}/refresh/", follow=True)
    # Then the inquiry's answer is on the timeline
    page = response.content.decode()
    assert "Status refreshed from Wappin" in page
    assert "Inquiry" in page


def test_refresh_of_a_message_wappin_never_accepted_explains_why(marketer_client, project):
    message = factories.MessageFactory(project=project, status="queued")
    page = marketer_client.post(f"/history/{message.pk}/refresh/", follow=True).content.decode()
    assert "has not given this message an id yet" in page


def test_a_text_file_named_pdf_is_refused_on_the_header_field(marketer_client, project, registered):
    # Issue 10, finding 11: uploads were checked by extension only
    template = factories.TemplateFactory(project=project, name="invoice_ready")
    factories.TemplateLanguageFactory(
        template=template, header_type="document", body="Tagihan {{1}}"
    )
    upload = SimpleUploadedFile(
        "invoice.pdf", b"Dear customer, here is your invoice", content_type="application/pdf"
    )
    response = marketer_client.post(
        "/history/test-send/",
        {
            "template": "invoice_ready",
            "recipient_number": CUSTOMER_NUMBER,
            "param_1": "Budi",
            "media": upload,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="field has-error"' in page
    assert "is not a real PDF file: its content is something else." in page
    assert not Message.objects.exists()
