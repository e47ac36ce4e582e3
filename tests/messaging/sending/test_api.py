"""The send endpoints: each kind, idempotency, and every refusal in the API's error shape."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest
from rest_framework.test import APIClient

from messaging.models import IdempotencyRecord, Message
from messaging.sending.tasks import messages_dispatch_task
from projects.models import Integration
from projects.services import api_key_create
from tests import factories

pytestmark = pytest.mark.django_db


TEXT = {"recipient_number": "0812-3456-7890", "message_content": "Your order shipped."}


def test_text_send_answers_202_with_the_queued_message(
    api_client, chatbot_integration, customer, api_key
):
    response = api_client.post("/api/v1/messages/text/", TEXT, format="json")
    assert response.status_code == 202
    body = response.json()
    message = Message.objects.get()
    assert body["id"] == message.pk
    assert body["status"] == "queued"
    assert body["phone_number"] == "6281234567890"
    assert message.source == Message.Source.API_KEY
    assert message.api_key == api_key[1]


def test_text_send_without_recipient_lists_the_missing_fields(api_client, chatbot_integration):
    response = api_client.post("/api/v1/messages/text/", {}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"recipient_number", "message_content"}


def test_text_send_outside_the_window_answers_409_with_the_reason(api_client, chatbot_integration):
    response = api_client.post("/api/v1/messages/text/", TEXT, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "outside_24h_window"
    assert not Message.objects.exists()


def test_same_idempotency_key_and_body_replays_the_first_answer_and_sends_once(
    api_client, chatbot_integration, customer
):
    # Given a first send with a key
    first = api_client.post(
        "/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="order-2041"
    )
    # When the client retries it
    again = api_client.post(
        "/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="order-2041"
    )
    # Then it gets the first answer again and one message exists
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1
    assert IdempotencyRecord.objects.get().message_id == first.json()["id"]


def test_same_idempotency_key_with_another_body_is_refused_with_422(
    api_client, chatbot_integration, customer
):
    api_client.post("/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    response = api_client.post(
        "/api/v1/messages/text/",
        {**TEXT, "message_content": "Other"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Message.objects.count() == 1


def test_a_refused_send_does_not_use_up_its_idempotency_key(
    api_client, chatbot_integration, customer
):
    refused = api_client.post(
        "/api/v1/messages/text/",
        {**TEXT, "recipient_number": "0812"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_idempotency_keys_are_the_projects_whichever_api_key_sends(
    api_client, project, chatbot_integration, customer
):
    # Issue 11, defect 9: two keys of one project sending the same body with the same
    # Idempotency-Key created two messages (keys were scoped per API key).
    other = APIClient()
    other.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=project, name='other').raw_key}"
    )
    first = api_client.post(
        "/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    response = other.post(
        "/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 202
    assert response["Idempotent-Replayed"] == "true"
    assert response.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1


def test_idempotency_keys_of_two_projects_do_not_collide(
    api_client, project, chatbot_integration, customer
):
    other_project = factories.ProjectFactory()
    factories.IntegrationFactory(project=other_project, kind=Integration.Kind.CHATBOT)
    factories.ContactFactory(
        project=other_project, phone_number=customer.phone_number, last_inbound_at=timezone.now()
    )
    other = APIClient()
    other.credentials(
        HTTP_AUTHORIZATION=f"Api-Key {api_key_create(project=other_project, name='o').raw_key}"
    )
    api_client.post("/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="same")
    response = other.post(
        "/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    assert Message.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_with_one_idempotency_key_send_once(project, monkeypatch):
    import threading

    from django.db import connection

    # The sending itself is not what this test is about.
    monkeypatch.setattr(messages_dispatch_task, "delay", lambda *args, **kwargs: None)
    factories.IntegrationFactory(project=project, kind=Integration.Kind.CHATBOT)
    factories.ContactFactory(
        project=project, phone_number="6281234567890", last_inbound_at=timezone.now()
    )
    raw_key = api_key_create(project=project, name="race").raw_key
    barrier = threading.Barrier(4)
    answers = []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="race-1"
            )
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert {status for status, _ in answers} == {202}
    assert len({message_id for _, message_id in answers}) == 1
    assert Message.objects.count() == 1


def test_idempotency_keys_are_forgotten_after_a_day(api_client, chatbot_integration, customer):
    from messaging.sending.services import idempotency_records_prune

    api_client.post("/api/v1/messages/text/", TEXT, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert idempotency_records_prune(now=timezone.now() + timedelta(hours=23)) == 0
    assert idempotency_records_prune(now=timezone.now() + timedelta(hours=25)) == 1
    assert Message.objects.count() == 1


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _media_form(content=PNG):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "recipient_number": "081234567890",
        "media_type": "image",
        "media": SimpleUploadedFile("promo.png", content, content_type="image/png"),
        "caption": "Promo",
    }


def test_idempotency_on_a_multipart_send_compares_the_file_too(
    api_client, chatbot_integration, customer
):
    first = api_client.post(
        "/api/v1/messages/media/", _media_form(), format="multipart", HTTP_IDEMPOTENCY_KEY="m1"
    )
    again = api_client.post(
        "/api/v1/messages/media/", _media_form(), format="multipart", HTTP_IDEMPOTENCY_KEY="m1"
    )
    other_file = api_client.post(
        "/api/v1/messages/media/",
        _media_form(PNG + b"x"),
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="m1",
    )
    assert (first.status_code, again.status_code, other_file.status_code) == (202, 202, 422)
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1


def test_hsm_params_that_are_not_a_json_object_are_refused_on_their_field(api_client, project):
    response = api_client.post(
        "/api/v1/messages/hsm/",
        {"recipient_number": "081234567890", "type": "order_shipped", "params": "{not json"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["params"] == [
        'Give a JSON object, such as {"1": "Budi"}.'
    ]


def test_hsm_accepts_header_param_as_wappins_header_object_or_flat(
    api_client, project, django_capture_on_commit_callbacks
):
    factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    template = factories.TemplateFactory(project=project, name="greeting")
    factories.TemplateLanguageFactory(
        template=template, header_type="text", header_text="Hi {{1}}", body="Welcome."
    )
    with django_capture_on_commit_callbacks():
        nested = api_client.post(
            "/api/v1/messages/hsm/",
            {"recipient_number": "081234567890", "type": "greeting", "header": {"param": "Budi"}},
            format="json",
        )
        flat = api_client.post(
            "/api/v1/messages/hsm/",
            {"recipient_number": "081234567890", "type": "greeting", "header_param": "Sari"},
            format="json",
        )
    assert (nested.status_code, flat.status_code) == (202, 202)
    assert [m.header_param for m in Message.objects.order_by("id")] == ["Budi", "Sari"]


def test_hsm_of_an_unknown_template_answers_404_on_the_type_field(api_client, project):
    factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    response = api_client.post(
        "/api/v1/messages/hsm/",
        {"recipient_number": "081234567890", "type": "nope", "params": {}},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "template_not_found"
    assert list(response.json()["error"]["fields"]) == ["type"]


def test_send_errors_name_the_fields_the_developer_posted(api_client, project, wappin_sandbox):
    # Given an approved template whose URL button and header take a variable
    from tests import factories

    factories.IntegrationFactory(project=project)
    language = factories.TemplateLanguageFactory(
        template=factories.TemplateFactory(project=project, name="order_track"),
        header_type="text",
        header_text="Order {{1}}",
        body="Hello {{1}}",
        buttons=[{"type": "url", "text": "Track", "url": "https://shop.example/t/{{1}}"}],
    )
    # When the developer leaves out header.param and button.url
    response = api_client.post(
        "/api/v1/messages/hsm/",
        {
            "recipient_number": "081234567890",
            "type": language.template.name,
            "params": {"1": "Budi"},
        },
        format="json",
    )
    # Then the error names those fields as they are posted, not as the services call them
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "button.url" in fields and "header.param" in fields
    assert "button_url" not in fields and "header_param" not in fields


@pytest.fixture
def media_template(project, monkeypatch):
    # The sending itself is not what these tests are about.
    monkeypatch.setattr(messages_dispatch_task, "delay", lambda *args, **kwargs: None)
    factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    template = factories.TemplateFactory(project=project, name="promo")
    factories.TemplateLanguageFactory(
        template=template,
        header_type="image",
        body="Hi {{1}}",
        buttons=[
            {"type": "url", "text": "Open", "url": "https://shop.example/{{1}}"},
            {"type": "quick_reply", "text": "Yes", "payload": "yes"},
        ],
    )
    return template


def _hsm_media_form(**fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "recipient_number": "081234567890",
        "type": "promo",
        "params": '{"1": "Budi"}',
        "button": '{"url": "INV-1"}',
        "media": SimpleUploadedFile("promo.png", PNG, content_type="image/png"),
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"params": '{"1": ["Budi"]}'}, "params", 'Param 1 must be text, not ["Budi"].'),
        (
            {"params": '{"1": {"name": "Budi"}}'},
            "params",
            'Param 1 must be text, not {"name": "Budi"}.',
        ),
        ({"params": '{"1": true}'}, "params", "Param 1 must be text, not true."),
        ({"params": '{"1": NaN}'}, "params", "Param 1 must be text, not NaN."),
        ({"params": '{"1": "a\\u0000b"}'}, "params", "Param 1 contains a NUL character."),
        (
            {"button": '{"url": ["a"]}'},
            "button.url",
            'The URL button\'s param must be text, not ["a"].',
        ),
        (
            {"header": '{"param": {"a": 1}}'},
            "header.param",
            'The header param must be text, not {"a": 1}.',
        ),
        (
            {"button": '{"url": "a", "reply_payload": {"1": {"a": 1}}}'},
            "button.reply_payload",
            'Reply payload 1 must be text, not {"a": 1}.',
        ),
    ],
)
def test_hsm_media_values_that_are_not_text_are_refused_not_sent_as_python_reprs(
    api_client, media_template, fields, field, message
):
    # A list or object used to be sent as "['Budi']" / "{'name': 'Budi'}".
    response = api_client.post(
        "/api/v1/messages/hsm-media/", _hsm_media_form(**fields), format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"][field] == [message]
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"params": '{"1": "%s"}' % ("x" * 1025)},
            "params",
            "Param 1 is 1025 characters long; at most 1024 fit.",
        ),
        (
            {"button": '{"url": "%s"}' % ("x" * 2001)},
            "button.url",
            "The URL button's param is 2001 characters long; at most 2000 fit.",
        ),
        (
            {"header_param": "h" * 1025},
            "header.param",
            "The header param is 1025 characters long; at most 1024 fit.",
        ),
    ],
)
def test_hsm_media_values_longer_than_their_column_are_refused(
    api_client, media_template, fields, field, message
):
    # On PostgreSQL these overflowed the column: a 500 after validation had passed.
    response = api_client.post(
        "/api/v1/messages/hsm-media/", _hsm_media_form(**fields), format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"][field] == [message]
    assert not Message.objects.exists()


def test_hsm_media_number_values_are_sent_as_text(api_client, media_template):
    response = api_client.post(
        "/api/v1/messages/hsm-media/",
        _hsm_media_form(params='{"1": 42}', button='{"url": 7}'),
        format="multipart",
    )
    assert response.status_code == 202
    assert (response.json()["params"], response.json()["button_url"]) == ({"1": "42"}, "7")


def test_media_caption_longer_than_1024_is_refused(api_client, chatbot_integration, customer):
    response = api_client.post(
        "/api/v1/messages/media/", _media_form() | {"caption": "c" * 1025}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["caption"] == [
        "A caption is at most 1024 characters; this one has 1025."
    ]
    assert not Message.objects.exists()


def test_hsm_media_params_nested_thousands_of_levels_deep_are_refused_on_their_field(
    api_client, media_template
):
    response = api_client.post(
        "/api/v1/messages/hsm-media/",
        _hsm_media_form(params="[" * 100_000 + "]" * 100_000),
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["params"] == [
        'Give a JSON object, such as {"1": "Budi"}.'
    ]


def test_a_multipart_send_with_too_many_fields_answers_in_the_api_error_shape(
    api_client, chatbot_integration
):
    # Django's TooManyFieldsSent used to give its bare HTML "Bad Request (400)" page.
    fields = {f"field_{n}": "x" for n in range(1001)}
    response = api_client.post("/api/v1/messages/media/", fields, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"], error["message"]) == (
        "invalid_request_error",
        "too_many_fields",
        "The request has more than 1000 fields.",
    )


def test_a_multipart_send_with_oversized_form_fields_is_a_413(
    api_client, chatbot_integration, settings
):
    # Given a 1 MB cap on form fields (the real one is 10 MB; files do not count)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    form = _hsm_media_form(params='{"1": "%s"}' % ("x" * (1024 * 1024 + 1)))
    response = api_client.post("/api/v1/messages/hsm-media/", form, format="multipart")
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "request_too_large",
        "The request's form fields are larger than 1 MB (files are not counted).",
    )
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_after_commit_still_answers_202_and_leaves_the_message_queued(
    api_client, chatbot_integration, customer, monkeypatch
):
    # Given a broker that refuses the send task once the message is committed
    def broker_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(messages_dispatch_task, "delay", broker_down)
    # When a client sends
    response = api_client.post("/api/v1/messages/text/", TEXT, format="json")
    # Then the message is accepted (a retry would send it twice) and waits for the sweep
    assert response.status_code == 202
    assert Message.objects.get().status == "queued"


def test_a_text_file_named_png_is_refused_before_anything_reaches_wappin(
    api_client, chatbot_integration, customer
):
    # Issue 10, finding 11: uploads were checked by extension only
    response = api_client.post(
        "/api/v1/messages/media/",
        _media_form(b"just some text, not a picture\n"),
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "media_content_mismatch"
    assert error["fields"]["media"] == [
        "'promo.png' is not a real PNG file: its content is something else."
    ]
    assert not Message.objects.exists()
