"""Template and media sends: each refusal before a row is written, and the rows they queue."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import pytest

from messaging.models import Message
from messaging.sending.services import message_send_hsm, message_send_media
from projects.models import Integration
from templates_app.models import Template
from tests import factories
from wappin_portal.errors import Conflict, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake\n"


@pytest.fixture
def notification_integration(project):
    return factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)


@pytest.fixture
def order_shipped(project):
    """Approved utility template: body with {{1}} and {{2}}."""
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=template, language_code="id", position=0)
    factories.TemplateLanguageFactory(
        template=template, language_code="en", position=1, body="Hi {{1}}, order {{2}} shipped."
    )
    return template


@pytest.fixture
def promo(project):
    template = factories.TemplateFactory(
        project=project, name="weekend_promo", message_type=Template.MessageType.MARKETING
    )
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}, 20% off this weekend.")
    return template


def _send(project, **overrides):
    arguments = {
        "project": project,
        "phone_number": "081234567890",
        "template_name": "order_shipped",
        "params": {"1": "Budi", "2": "INV-2041"},
        "source": "api_key",
        **overrides,
    }
    return message_send_hsm(**arguments)


def test_hsm_is_queued_with_the_templates_first_language(
    project, notification_integration, order_shipped, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        message = _send(project)
    assert message.kind == Message.Kind.HSM
    assert message.status == Message.Status.QUEUED
    assert message.template == order_shipped
    assert message.language_code == "id"
    assert message.params == {"1": "Budi", "2": "INV-2041"}
    assert message.contact.phone_number == "6281234567890"
    assert list(message.status_events.values_list("status", flat=True)) == ["queued"]
    assert len(callbacks) == 1


def test_hsm_of_an_unknown_template_is_refused(project, notification_integration):
    with pytest.raises(NotFound) as error:
        _send(project, template_name="no_such_template")
    assert error.value.code == "template_not_found"
    assert not Message.objects.exists()


def test_hsm_of_a_template_not_approved_is_refused(
    project, notification_integration, order_shipped
):
    order_shipped.status = Template.Status.ON_PROCESS
    order_shipped.save()
    with pytest.raises(Conflict) as error:
        _send(project)
    assert error.value.code == "template_not_approved"
    assert not Message.objects.exists()


def test_hsm_with_the_wrong_param_count_is_refused_on_the_params_field(
    project, notification_integration, order_shipped
):
    with pytest.raises(ValidationFailed) as error:
        _send(project, params={"1": "Budi"})
    assert "params" in error.value.fields
    assert not Message.objects.exists()


def test_hsm_with_a_header_param_the_template_lacks_is_refused(
    project, notification_integration, order_shipped
):
    with pytest.raises(ValidationFailed) as error:
        _send(project, header_param="Budi")
    assert "header_param" in error.value.fields


def test_hsm_with_an_invalid_number_is_refused(project, notification_integration, order_shipped):
    with pytest.raises(ValidationFailed) as error:
        _send(project, phone_number="0812")
    assert error.value.field == "recipient_number"


def test_marketing_template_to_an_opted_out_contact_is_refused(
    project, notification_integration, promo
):
    factories.ContactFactory(
        project=project, phone_number="6281234567890", opted_out_at=timezone.now()
    )
    with pytest.raises(Conflict) as error:
        _send(project, template_name="weekend_promo", params={"1": "Budi"})
    assert error.value.code == "contact_opted_out"
    assert not Message.objects.exists()


def test_utility_template_still_reaches_an_opted_out_contact(
    project, notification_integration, order_shipped, django_capture_on_commit_callbacks
):
    factories.ContactFactory(
        project=project, phone_number="6281234567890", opted_out_at=timezone.now()
    )
    with django_capture_on_commit_callbacks():
        message = _send(project)
    assert message.status == Message.Status.QUEUED


def test_hsm_without_an_integration_is_refused(project, order_shipped):
    with pytest.raises(Conflict) as error:
        _send(project)
    assert error.value.code == "integration_missing"


def test_hsm_falls_back_to_the_chatbot_integration(
    project, order_shipped, django_capture_on_commit_callbacks
):
    chatbot = factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)
    with django_capture_on_commit_callbacks():
        message = _send(project)
    assert message.integration == chatbot


@pytest.fixture
def invoice_ready(project):
    template = factories.TemplateFactory(project=project, name="invoice_ready")
    factories.TemplateLanguageFactory(
        template=template, header_type="document", body="Invoice {{1}} attached."
    )
    return template


def test_hsm_with_media_is_queued_with_our_copy_of_the_file(
    project, notification_integration, invoice_ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        message = _send(
            project,
            template_name="invoice_ready",
            params={"1": "INV-1"},
            media=SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
        )
    assert message.kind == Message.Kind.HSM_MEDIA
    assert message.media_type == "document"
    assert message.media.read() == PDF


def test_hsm_with_a_media_header_needs_the_file(project, notification_integration, invoice_ready):
    with pytest.raises(ValidationFailed) as error:
        _send(project, template_name="invoice_ready", params={"1": "INV-1"})
    assert "media" in error.value.fields


def test_hsm_with_media_of_the_wrong_file_type_is_refused(
    project, notification_integration, invoice_ready
):
    with pytest.raises(ValidationFailed) as error:
        _send(
            project,
            template_name="invoice_ready",
            params={"1": "INV-1"},
            media=SimpleUploadedFile("invoice.png", PNG, content_type="image/png"),
        )
    assert error.value.field == "media"
    assert not Message.objects.exists()


# --- media (chatbot) sends ----------------------------------------------------------------


@pytest.fixture
def window_open(project):
    factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)
    return factories.ContactFactory(
        project=project,
        phone_number="6281234567890",
        last_inbound_at=timezone.now() - timedelta(minutes=5),
    )


def test_media_inside_the_window_is_queued(
    project, window_open, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        message = message_send_media(
            project=project,
            phone_number="081234567890",
            media_type="image",
            media=SimpleUploadedFile("promo.png", PNG, content_type="image/png"),
            caption="Promo",
            source="user",
        )
    assert message.kind == Message.Kind.MEDIA
    assert message.caption == "Promo"
    assert message.media.name.endswith(".png")


@pytest.mark.parametrize(
    ("media_type", "filename", "field"),
    [
        ("video", "clip.mp4", "media_type"),
        ("image", "promo.gif", "media"),
        ("audio", "note.png", "media"),
    ],
)
def test_media_of_a_type_whatsapp_refuses_is_refused(
    project, window_open, media_type, filename, field
):
    with pytest.raises(ValidationFailed) as error:
        message_send_media(
            project=project,
            phone_number="081234567890",
            media_type=media_type,
            media=SimpleUploadedFile(filename, PNG),
            source="user",
        )
    assert error.value.field == field
    assert not Message.objects.exists()


def test_media_too_large_for_whatsapp_is_refused(project, window_open):
    big = SimpleUploadedFile("big.png", b"\x00" * (5 * 1024 * 1024 + 1), content_type="image/png")
    with pytest.raises(ValidationFailed) as error:
        message_send_media(
            project=project,
            phone_number="081234567890",
            media_type="image",
            media=big,
            source="user",
        )
    assert error.value.code == "media_too_large"


def test_audio_with_a_caption_is_refused(project, window_open):
    with pytest.raises(ValidationFailed) as error:
        message_send_media(
            project=project,
            phone_number="081234567890",
            media_type="audio",
            media=SimpleUploadedFile("note.mp3", b"ID3" + b"\x00" * 32, content_type="audio/mpeg"),
            caption="Listen",
            source="user",
        )
    assert error.value.field == "caption"


def test_media_outside_the_window_is_refused(project, window_open):
    window_open.last_inbound_at = timezone.now() - timedelta(days=2)
    window_open.save()
    with pytest.raises(Conflict) as error:
        message_send_media(
            project=project,
            phone_number="081234567890",
            media_type="image",
            media=SimpleUploadedFile("promo.png", PNG, content_type="image/png"),
            source="user",
        )
    assert error.value.code == "outside_24h_window"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+44 7400 123456", "447400123456"),
        ("+60 12-345 6789", "60123456789"),
        ("+1 415 555 2671", "14155552671"),
    ],
)
def test_a_foreign_number_is_sent_as_its_own_countrys(
    typed, stored, api_client, project, wappin_sandbox, django_capture_on_commit_callbacks
):
    notification = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=template, language_code="id")
    wappin_sandbox.register(notification)
    body = {
        "recipient_number": typed,
        "type": "order_shipped",
        "params": {"1": "Budi", "2": "INV-1"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/messages/hsm/", body, format="json")
    assert response.status_code == 202, response.json()
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.phone_number, message.contact.phone_number, message.status) == (
        stored,
        stored,
        "sent",
    )
    assert (
        wappin_sandbox.sent(message_id=message.wappin_message_id)[0]["recipient_number"] == stored
    )
