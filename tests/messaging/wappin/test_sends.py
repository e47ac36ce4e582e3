"""The four sends and the inquiry against the running sandbox, for every status code of the document."""

from __future__ import annotations

import json
import time

import pytest

from messaging.models import WappinCallLog
from messaging.wappin import MediaUpload, StatusStep, WappinClient
from messaging.wappin.client import (
    INQUIRY_PATH,
    SEND_HSM_MEDIA_PATH,
    SEND_HSM_PATH,
    SEND_MEDIA_PATH,
    SEND_TEXT_PATH,
)
from messaging.wappin.exceptions import (
    WappinAuthError,
    WappinBadRequest,
    WappinClientProjectInvalid,
    WappinContactInvalid,
    WappinIPNotAllowed,
    WappinMediaUploadFailed,
    WappinMessageNotFound,
    WappinParamCountMismatch,
    WappinTemplateNotFound,
)
from tests import factories
from tests.messaging.wappin.conftest import GOOD_NUMBER
from tests.wappin_sandbox import INVALID_NUMBER

PNG = MediaUpload("promo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
PDF = MediaUpload("invoice.pdf", b"%PDF-1.4 fake invoice", "application/pdf")

HSM = {
    "recipient_number": GOOD_NUMBER,
    "template_name": "order_update",
    "language_code": "en",
    "params": {"1": "Budi", "2": "INV-42"},
    "header_param": "INV-42",
}


# -- send HSM (JSON) ---------------------------------------------------------------------


def test_send_hsm_delivers_params_header_and_buttons_as_the_documents_json(wappin, wappin_sandbox):
    result = wappin.send_hsm(
        **HSM, button_url="INV-42", reply_payloads={"1": "thanks-42", "2": "help-42"}
    )

    assert len(result.message_id) == 13
    assert result.raw["status"] == "200"
    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert received["fields"] == {
        "client_id": wappin.project.client_id,
        "project_id": wappin.project.wappin_project_id,
        "type": "order_update",
        "recipient_number": GOOD_NUMBER,
        "language_code": "en",
        "params": {"1": "Budi", "2": "INV-42"},
        "header": {"param": "INV-42"},
        "button": {"url": "INV-42", "reply_payload": {"1": "thanks-42", "2": "help-42"}},
    }


def test_send_hsm_without_language_uses_the_templates_first_language(wappin, wappin_sandbox):
    result = wappin.send_hsm(**{**HSM, "language_code": ""})

    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert "language_code" not in received["fields"]
    assert received["language_code"] == "id"


def test_send_hsm_with_a_missing_field_is_wappins_no_input_400(wappin):
    with pytest.raises(WappinBadRequest) as caught:
        wappin.send_hsm(**{**HSM, "recipient_number": ""})

    assert caught.value.wappin_status == "400"
    assert not caught.value.retryable
    assert "no usable input" in caught.value.message


def test_send_hsm_for_a_project_wappin_does_not_know_is_the_client_project_400(wappin):
    wappin.project.wappin_project_id = "999999"
    wappin.project.save()

    with pytest.raises(WappinClientProjectInvalid) as caught:
        wappin.send_hsm(**HSM)

    assert caught.value.wappin_status == "400"
    assert "project ID 999999" in caught.value.message


def test_send_hsm_with_the_wrong_param_count_is_the_param_count_400(wappin):
    with pytest.raises(WappinParamCountMismatch) as caught:
        wappin.send_hsm(**{**HSM, "params": {"1": "Budi"}})

    assert caught.value.wappin_status == "400"
    assert caught.value.field == "params"
    assert "order_update" in caught.value.message


def test_send_hsm_of_an_unknown_template_is_404_template_not_found(wappin):
    with pytest.raises(WappinTemplateNotFound) as caught:
        wappin.send_hsm(**{**HSM, "template_name": "no_such_template"})

    assert caught.value.wappin_status == "404"
    assert caught.value.field == "type"
    assert "'no_such_template'" in caught.value.message


def test_send_hsm_of_an_inactive_template_is_404(wappin, wappin_sandbox, template_language):
    wappin_sandbox.add_template(template_language, active=False)

    with pytest.raises(WappinTemplateNotFound):
        wappin.send_hsm(**HSM)


def test_send_hsm_to_a_number_not_on_whatsapp_is_601_contact_invalid(wappin):
    with pytest.raises(WappinContactInvalid) as caught:
        wappin.send_hsm(**{**HSM, "recipient_number": INVALID_NUMBER})

    assert caught.value.wappin_status == "601"
    assert caught.value.field == "recipient_number"
    assert caught.value.message == (
        f"Wappin refused the number {INVALID_NUMBER}: it is not on WhatsApp (601)."
    )


def test_send_hsm_from_an_address_outside_the_whitelist_is_407(wappin, wappin_sandbox, registered):
    # Given a client whose whitelist has only another network (and a token already fetched)
    wappin.token_get()
    wappin_sandbox.patch_world(
        {"clients": {registered.project.client_id: {"ip_whitelist": ["10.0.0.0/8"]}}}
    )

    with pytest.raises(WappinIPNotAllowed) as caught:
        wappin.send_hsm(**HSM)

    assert caught.value.wappin_status == "407"
    assert "IP whitelist" in caught.value.message


def test_send_hsm_with_an_unrecognised_authorization_is_406(wappin):
    with pytest.raises(WappinAuthError) as caught:
        wappin._request(SEND_HSM_PATH, auth="Token nonsense", json_body={}, about={})

    assert caught.value.wappin_status == "406"
    assert caught.value.code == "wappin_auth_not_recognized"


def test_send_hsm_with_tokens_wappin_always_refuses_is_401_after_one_refresh(
    wappin, wappin_sandbox
):
    # Given a Wappin whose tokens are dead on arrival
    wappin_sandbox.knobs(token_ttl_s=0)

    with pytest.raises(WappinAuthError) as caught:
        wappin.send_hsm(**HSM)

    # Then: token, send (401), one refresh, one resend (401), and no more
    assert caught.value.wappin_status == "401"
    assert "even after a fresh one" in caught.value.message
    calls = list(WappinCallLog.objects.order_by("id").values_list("endpoint", "wappin_status"))
    assert calls == [
        ("/v1/token/get", "200"),
        (SEND_HSM_PATH, "401"),
        ("/v1/token/get", "200"),
        (SEND_HSM_PATH, "401"),
    ]


# -- send HSM with media (multipart) -----------------------------------------------------


def test_send_hsm_with_media_posts_multipart_with_params_and_button_as_json_strings(
    wappin, wappin_sandbox, media_template
):
    result = wappin.send_hsm_with_media(
        recipient_number=GOOD_NUMBER,
        template_name="invoice_ready",
        params={"1": "Budi"},
        button_url="inv/42",
        reply_payloads={"1": "paid"},
        media=PDF,
    )

    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert received["endpoint"] == "do-send-hsm-with-media"
    assert json.loads(received["fields"]["params"]) == {"1": "Budi"}
    assert json.loads(received["fields"]["button"]) == {
        "url": "inv/42",
        "reply_payload": {"1": "paid"},
    }
    assert received["media"]["filename"] == "invoice.pdf"
    assert received["media"]["size"] == len(PDF.content)


def test_send_hsm_with_media_carries_a_header_param_where_the_template_has_one(
    wappin, wappin_sandbox, media_template
):
    wappin_sandbox.add_template(media_template, header_param=True)

    result = wappin.send_hsm_with_media(
        recipient_number=GOOD_NUMBER,
        template_name="invoice_ready",
        params={"1": "Budi"},
        header_param="Maret",
        media=PDF,
    )

    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert received["header_param"] == "Maret"


@pytest.mark.parametrize(
    "change, error, status",
    [
        ({"params": {}}, WappinParamCountMismatch, "400"),
        ({"template_name": "gone"}, WappinTemplateNotFound, "404"),
        ({"recipient_number": INVALID_NUMBER}, WappinContactInvalid, "601"),
        (
            {"media": MediaUpload("virus.exe", b"MZ", "application/octet-stream")},
            WappinMediaUploadFailed,
            "605",
        ),
        ({"recipient_number": " "}, WappinBadRequest, "400"),
    ],
)
def test_send_hsm_with_media_refusals_are_typed(wappin, media_template, change, error, status):
    arguments = {
        "recipient_number": GOOD_NUMBER,
        "template_name": "invoice_ready",
        "params": {"1": "Budi"},
        "media": PDF,
        **change,
    }

    with pytest.raises(error) as caught:
        wappin.send_hsm_with_media(**arguments)

    assert caught.value.wappin_status == status


# -- send text ---------------------------------------------------------------------------


def test_send_text_sends_the_message_content(wappin, wappin_sandbox):
    result = wappin.send_text(recipient_number=GOOD_NUMBER, text="Pesanan Anda sudah dikirim.")

    assert result.raw["data"] is None
    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert received["endpoint"] == "do-send"
    assert received["fields"] == {
        "client_id": wappin.project.client_id,
        "project_id": wappin.project.wappin_project_id,
        "message_content": "Pesanan Anda sudah dikirim.",
        "recipient_number": GOOD_NUMBER,
    }


def test_send_text_refusals_are_typed(wappin, wappin_sandbox, registered):
    with pytest.raises(WappinBadRequest):
        wappin.send_text(recipient_number=GOOD_NUMBER, text="")
    with pytest.raises(WappinContactInvalid):
        wappin.send_text(recipient_number=INVALID_NUMBER, text="Halo")
    with pytest.raises(WappinAuthError) as caught:
        wappin._request(SEND_TEXT_PATH, auth="Bearer", json_body={}, about={})
    assert caught.value.wappin_status == "406"

    # Given the project moved to another client (its old token no longer applies)
    registered.project.client_id = "7777"
    registered.project.save()
    registered.save()
    wappin_sandbox.patch_world({"clients": {"7777": {"secret_key": registered.secret_key}}})
    other = WappinClient(registered)
    with pytest.raises(WappinClientProjectInvalid):
        other.send_text(recipient_number=GOOD_NUMBER, text="Halo")

    wappin_sandbox.patch_world({"clients": {"7777": {"ip_whitelist": ["10.0.0.0/8"]}}})
    with pytest.raises(WappinIPNotAllowed):
        other.send_text(recipient_number=GOOD_NUMBER, text="Halo")


def test_send_text_with_tokens_wappin_always_refuses_is_401(wappin, wappin_sandbox):
    wappin_sandbox.knobs(token_ttl_s=0)

    with pytest.raises(WappinAuthError) as caught:
        wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")

    assert caught.value.wappin_status == "401"


# -- send media --------------------------------------------------------------------------


def test_send_media_posts_the_file_type_and_caption(wappin, wappin_sandbox):
    result = wappin.send_media(
        recipient_number=GOOD_NUMBER, media_type="image", media=PNG, caption="Promo hari ini"
    )

    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert received["endpoint"] == "do-send-media"
    assert received["fields"]["media_type"] == "image"
    assert received["caption"] == "Promo hari ini"
    assert received["media"] == {
        "filename": "promo.png",
        "content_type": "image/png",
        "media_type": "image",
        "size": len(PNG.content),
        "sha256": received["media"]["sha256"],
    }


def test_send_media_leaves_out_a_caption_for_audio(wappin, wappin_sandbox):
    voice = MediaUpload("note.ogg", b"OggS" + b"0" * 32, "audio/ogg")

    result = wappin.send_media(
        recipient_number=GOOD_NUMBER, media_type="audio", media=voice, caption="x"
    )

    [received] = wappin_sandbox.sent(message_id=result.message_id)
    assert "caption" not in received["fields"]


def test_send_media_of_a_type_wappin_refuses_is_605(wappin):
    with pytest.raises(WappinMediaUploadFailed) as caught:
        wappin.send_media(recipient_number=GOOD_NUMBER, media_type="image", media=PDF)

    assert caught.value.wappin_status == "605"
    assert caught.value.field == "media"
    assert "invoice.pdf as image" in caught.value.message


def test_send_media_refusals_are_typed(wappin, wappin_sandbox):
    with pytest.raises(WappinBadRequest):
        wappin.send_media(recipient_number=GOOD_NUMBER, media_type="", media=PNG)
    with pytest.raises(WappinContactInvalid):
        wappin.send_media(recipient_number=INVALID_NUMBER, media_type="image", media=PNG)
    with pytest.raises(WappinAuthError) as caught:
        wappin._request(SEND_MEDIA_PATH, auth="Basic", form={}, media=PNG, about={})
    assert caught.value.wappin_status == "406"
    wappin_sandbox.knobs(token_ttl_s=0)
    wappin_sandbox.revoke_token(wappin.project.client_id)
    with pytest.raises(WappinAuthError) as caught:
        wappin.send_media(recipient_number=GOOD_NUMBER, media_type="image", media=PNG)
    assert caught.value.wappin_status == "401"


# -- inquiry -----------------------------------------------------------------------------


def test_inquiry_gives_the_timeline_as_it_moves(wappin, wappin_sandbox):
    # Given a sent message whose statuses move every 20 ms in the sandbox
    sent = wappin.send_hsm(**HSM)

    # When we ask until it has been read
    deadline = time.monotonic() + 5
    steps: list[StatusStep] = []
    while time.monotonic() < deadline:
        steps = wappin.inquiry(wappin_message_id=sent.message_id)
        if len(steps) == 3:
            break
        time.sleep(0.05)

    # Then the steps are Wappin's words with aware times, oldest first
    assert [step.status for step in steps] == ["sent", "delivered", "read"]
    assert all(step.occurred_at.tzinfo is not None for step in steps)
    assert steps == sorted(steps, key=lambda step: step.occurred_at)
    assert abs(time.time() - steps[0].occurred_at.timestamp()) < 30


def test_inquiry_of_an_unknown_message_is_404_message_not_found(wappin):
    with pytest.raises(WappinMessageNotFound) as caught:
        wappin.inquiry(wappin_message_id="5c33139c82f94")

    assert caught.value.wappin_status == "404"
    assert "5c33139c82f94" in caught.value.message


def test_inquiry_of_another_clients_message_is_404(wappin, wappin_sandbox, project):
    # Given a message sent by another client
    other = factories.IntegrationFactory(project=factories.ProjectFactory())
    wappin_sandbox.register(other)
    sent = WappinClient(other).send_text(recipient_number=GOOD_NUMBER, text="Halo")

    with pytest.raises(WappinMessageNotFound):
        wappin.inquiry(wappin_message_id=sent.message_id)


def test_inquiry_refusals_are_typed(wappin, wappin_sandbox, registered):
    with pytest.raises(WappinAuthError) as caught:
        wappin._request(INQUIRY_PATH, auth="Bearer", json_body={"message_id": "x"}, about={})
    assert caught.value.wappin_status == "406"
    wappin.token_get()
    wappin_sandbox.patch_world(
        {"clients": {registered.project.client_id: {"ip_whitelist": ["10.0.0.0/8"]}}}
    )
    with pytest.raises(WappinIPNotAllowed):
        wappin.inquiry(wappin_message_id="5c33139c82f94")
    wappin_sandbox.knobs(token_ttl_s=0)
    wappin_sandbox.revoke_token(registered.project.client_id)
    wappin_sandbox.patch_world({"clients": {registered.project.client_id: {"ip_whitelist": []}}})
    with pytest.raises(WappinAuthError) as caught:
        wappin.inquiry(wappin_message_id="5c33139c82f94")
    assert caught.value.wappin_status == "401"


def test_every_send_endpoint_is_logged_once_per_call(wappin):
    wappin.send_hsm(**HSM)
    wappin.send_hsm_with_media(
        recipient_number=GOOD_NUMBER, template_name="invoice_ready", params={"1": "A"}, media=PDF
    )
    wappin.send_text(recipient_number=GOOD_NUMBER, text="Halo")
    wappin.send_media(recipient_number=GOOD_NUMBER, media_type="document", media=PDF)

    endpoints = list(WappinCallLog.objects.order_by("id").values_list("endpoint", flat=True))
    assert endpoints == [
        "/v1/token/get",
        SEND_HSM_PATH,
        SEND_HSM_MEDIA_PATH,
        SEND_TEXT_PATH,
        SEND_MEDIA_PATH,
    ]
