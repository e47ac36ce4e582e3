"""The send endpoints of the REST API: validate the input, then send once per Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
from abc import ABCMeta, abstractmethod

from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import ACCEPTED_EXAMPLE, PROJECT_PARAMETER
from messaging.history.serializers import MessageSerializer
from messaging.models import Message
from messaging.sending import services
from messaging.sending.serializers import (
    HsmMediaSendSerializer,
    HsmSendSerializer,
    MediaSendSerializer,
    TextSendSerializer,
)
from projects.api import IsProjectMember, project_from_request
from projects.models import ApiKey, Project
from wappin_portal.api import JSONParser, MultiPartParser, error_responses
from wappin_portal.errors import ValidationFailed

LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    location=OpenApiParameter.HEADER,
    response=[202],
    description="The queued message's URL: GET it to follow its status.",
)
REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[202],
    description="`true` when this answer replays the first answer to the same Idempotency-Key.",
)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID) per message. A retry with the same key and body gets the first "
        "answer again and sends nothing; the same key with another body is refused with 422."
    ),
)
SEND_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)


def _fingerprint_value(value):
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "sha256": digest.hexdigest()}
    return value


def request_fingerprint(request: Request) -> str:
    """A hash of what a send request asks for: its path and body (files by content)."""
    data = request.data
    if hasattr(data, "lists"):
        body = {key: [_fingerprint_value(v) for v in values] for key, values in data.lists()}
    else:
        body = data
    canonical = json.dumps({"path": request.path, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# The services speak of their own arguments; a developer posted Wappin's field names.
API_FIELD_NAMES = {
    "header_param": "header.param",
    "button_url": "button.url",
    "reply_payloads": "button.reply_payload",
}


def _with_api_field_names(error: ValidationFailed) -> ValidationFailed:
    fields = {API_FIELD_NAMES.get(name, name): messages for name, messages in error.fields.items()}
    return ValidationFailed(
        error.message,
        fields=fields,
        code=error.code,
        field=API_FIELD_NAMES.get(error.field, error.field),
    )


# The 202 answer depends on the message alone (no request, no context), so one
# serializer, built once, renders every answer: a ModelSerializer otherwise
# rebuilds its 24 fields by introspecting the model on every request (`make bench`, 5).
_ACCEPTED_SERIALIZER = MessageSerializer()


def message_accepted_body(message: Message) -> dict:
    return _ACCEPTED_SERIALIZER.to_representation(message)


class SendView(APIView, metaclass=ABCMeta):
    """One send endpoint: validate the input, then send once per Idempotency-Key.

    Subclasses give the serializer and `send()`, which calls one `message_send_*` service.
    """

    permission_classes = [IsProjectMember]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class: type = HsmSendSerializer

    @abstractmethod
    def send(self, *, project: Project, data: dict, sender: dict) -> Message:
        """Call the one `message_send_*` service of this endpoint."""

    def post(self, request: Request) -> Response:
        try:
            return self._post(request)
        except ValidationFailed as error:
            raise _with_api_field_names(error) from error

    def _post(self, request: Request) -> Response:
        project = project_from_request(request, capability="message.send")
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        sender = {
            "source": Message.Source.API_KEY if api_key else Message.Source.USER,
            "api_key": api_key,
            "sent_by": None if api_key else request.user,
        }
        key = request.headers.get("Idempotency-Key", "").strip()
        answer = services.message_send_idempotent(
            project=project,
            key=key,
            # Only a request with a key is compared with another: no need to hash the others' files.
            fingerprint=request_fingerprint(request) if key else "",
            send=lambda: self.send(project=project, data=serializer.validated_data, sender=sender),
            answer_body=message_accepted_body,
        )
        headers = {}
        if answer.replayed:
            headers["Idempotent-Replayed"] = "true"
        if answer.status == services.ACCEPTED and "id" in answer.body:
            # Where to follow the queued message (Location on 202, as RFC 9110 suggests).
            headers["Location"] = request.build_absolute_uri(
                reverse("api_message_detail", kwargs={"message_id": answer.body["id"]})
            )
        return Response(answer.body, status=answer.status, headers=headers)


def _accepted(description: str) -> dict:
    return {
        202: OpenApiResponse(
            MessageSerializer,
            description=f"{description} The message is queued; follow it with GET /api/v1/messages/{{id}}/.",
            examples=[OpenApiExample("Accepted", value=ACCEPTED_EXAMPLE, response_only=True)],
        ),
        **SEND_ERRORS,
    }


class HsmSendView(SendView):
    serializer_class = HsmSendSerializer

    @extend_schema(
        operation_id="messages_send_hsm",
        summary="Send a template (HSM)",
        description="Wappin's do-send-hsm, with the same field names. Checked before anything is sent: "
        "the template is approved, the params fit its {{n}}, the number is valid.",
        tags=["messages"],
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER, LOCATION_HEADER, REPLAYED_HEADER],
        request=HsmSendSerializer,
        responses=_accepted("Accepted."),
        examples=[
            OpenApiExample(
                "Template with a header param and buttons",
                request_only=True,
                value={
                    "recipient_number": "081327666166",
                    "type": "order_shipped",
                    "language_code": "id",
                    "params": {"1": "Budi", "2": "INV-2041"},
                    "header": {"param": "Budi"},
                    "button": {"url": "INV-2041", "reply_payload": {"1": "track", "2": "help"}},
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def send(self, *, project: Project, data: dict, sender: dict) -> Message:
        return services.message_send_hsm(project=project, **data, **sender)


class HsmMediaSendView(SendView):
    serializer_class = HsmMediaSendSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="messages_send_hsm_media",
        summary="Send a template with a media header",
        description="Wappin's do-send-hsm-with-media: multipart, `params`, `header` and `button` as JSON strings.",
        tags=["messages"],
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER, LOCATION_HEADER, REPLAYED_HEADER],
        request={"multipart/form-data": HsmMediaSendSerializer},
        responses=_accepted("Accepted."),
        examples=[
            OpenApiExample(
                "Invoice template with a PDF header",
                request_only=True,
                media_type="multipart/form-data",
                value={
                    "recipient_number": "628989898989",
                    "type": "invoice_ready",
                    "language_code": "id",
                    "params": '{"1": "Budi", "2": "INV-2041"}',
                    "button": '{"url": "INV-2041"}',
                    "media": "(the file: invoice.pdf)",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def send(self, *, project: Project, data: dict, sender: dict) -> Message:
        return services.message_send_hsm(project=project, **data, **sender)


class TextSendView(SendView):
    serializer_class = TextSendSerializer

    @extend_schema(
        operation_id="messages_send_text",
        summary="Send a text (chatbot reply)",
        description="Wappin's do-send. WhatsApp allows free-form text only within 24 hours of the "
        "customer's last message (409 `outside_24h_window` otherwise).",
        tags=["messages"],
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER, LOCATION_HEADER, REPLAYED_HEADER],
        request=TextSendSerializer,
        responses=_accepted("Accepted."),
        examples=[
            OpenApiExample(
                "Reply",
                request_only=True,
                value={
                    "recipient_number": "082315658823",
                    "message_content": "Your order is on its way.",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def send(self, *, project: Project, data: dict, sender: dict) -> Message:
        return services.message_send_text(project=project, **data, **sender)


class MediaSendView(SendView):
    serializer_class = MediaSendSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="messages_send_media",
        summary="Send an image, document or audio (chatbot reply)",
        description="Wappin's do-send-media, multipart. Within 24 hours of the customer's last message.",
        tags=["messages"],
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER, LOCATION_HEADER, REPLAYED_HEADER],
        request={"multipart/form-data": MediaSendSerializer},
        responses=_accepted("Accepted."),
        examples=[
            OpenApiExample(
                "Image with a caption",
                request_only=True,
                media_type="multipart/form-data",
                value={
                    "recipient_number": "082315658823",
                    "media_type": "image",
                    "media": "(the file: promo.jpg)",
                    "caption": "Today's promo",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def send(self, *, project: Project, data: dict, sender: dict) -> Message:
        return services.message_send_media(project=project, **data, **sender)
