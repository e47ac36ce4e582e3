"""The messaging REST API: thin views that parse, call one service or selector, and shape the answer."""

from __future__ import annotations

import hashlib
import json
from abc import ABCMeta, abstractmethod
from collections.abc import Callable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import selectors, services
from messaging.models import Contact, Message
from messaging.serializers import (
    ContactSerializer,
    HsmMediaSendSerializer,
    HsmSendSerializer,
    MediaSendSerializer,
    MessageDetailSerializer,
    MessageSerializer,
    TextSendSerializer,
)
from messaging.wappin.exceptions import WappinError
from projects.api import WRITE_ROLES, IsProjectMember, project_from_request
from projects.models import ApiKey, Project
from wappin_portal.api import JSONParser, error_responses
from wappin_portal.errors import ServiceUnavailable, ValidationFailed

PROJECT_PARAMETER = OpenApiParameter(
    "project",
    OpenApiTypes.INT,
    description="Session users only: the project's id (an API key always acts on its own project).",
    required=False,
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
SEND_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 429, 503)


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pages over (-created_at, -id): the `message_project_recent` index, fast at any depth."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- idempotent sends -------------------------------------------------------------------


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


def _owner(request: Request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


# The services speak of their own arguments; a developer posted Wappin's field names.
API_FIELD_NAMES = {
    "header_param": "header.param",
    "button_url": "button.url",
    "reply_payloads": "button.reply_payload",
}


def _with_api_field_names(error: ValidationFailed) -> ValidationFailed:
    fields = {API_FIELD_NAMES.get(name, name): messages for name, messages in error.fields.items()}
    return ValidationFailed(
        error.message, fields=fields, code=error.code, field=API_FIELD_NAMES.get(error.field, error.field)
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
        project = project_from_request(request, roles=WRITE_ROLES)
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        sender = {
            "source": Message.Source.API_KEY if api_key else Message.Source.USER,
            "api_key": api_key,
            "sent_by": None if api_key else request.user,
        }
        return self.idempotent(
            request, project=project, send=lambda: self.send(project=project, data=serializer.validated_data, sender=sender)
        )

    def idempotent(self, request: Request, *, project: Project, send: Callable[[], Message]) -> Response:
        """Send, or replay the first answer when the Idempotency-Key was seen with the same body.

        The key's record is written in the same transaction as the message, so
        either both exist or neither does.
        """
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            message = send()
            return Response(message_accepted_body(message), status=http.HTTP_202_ACCEPTED)
        with transaction.atomic():
            record, replay = services.idempotency_claim(
                project=project, owner=_owner(request), key=key, fingerprint=request_fingerprint(request)
            )
            if replay:
                return Response(
                    record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"}
                )
            message = send()
            body = message_accepted_body(message)
            services.idempotency_complete(
                record=record, response_status=http.HTTP_202_ACCEPTED, response_body=body, message=message
            )
        return Response(body, status=http.HTTP_202_ACCEPTED)


ACCEPTED_EXAMPLE = {
    "id": 1042,
    "status": "queued",
    "direction": "out",
    "kind": "hsm",
    "source": "api_key",
    "phone_number": "6281327666166",
    "template_name": "order_shipped",
    "language_code": "id",
    "params": {"1": "Budi", "2": "INV-2041"},
    "header_param": "",
    "button_url": "",
    "reply_payloads": {},
    "text": "",
    "media_type": "",
    "media_name": "",
    "caption": "",
    "wappin_message_id": "",
    "failure_code": "",
    "failure_reason": "",
    "created_at": "2026-03-10T09:15:02.123456+07:00",
    "sent_at": None,
    "delivered_at": None,
    "read_at": None,
    "failed_at": None,
}


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
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER],
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
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER],
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
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER],
        request=TextSendSerializer,
        responses=_accepted("Accepted."),
        examples=[
            OpenApiExample(
                "Reply",
                request_only=True,
                value={"recipient_number": "082315658823", "message_content": "Your order is on its way."},
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
        parameters=[IDEMPOTENCY_PARAMETER, PROJECT_PARAMETER],
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


# --- history ----------------------------------------------------------------------------


class MessageFilter(django_filters.FilterSet):
    """Parses and documents the history filters; the filtering itself is `selectors.messages_filter`."""

    status = django_filters.ChoiceFilter(choices=Message.Status.choices, method="_by_selector")
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices, method="_by_selector")
    kind = django_filters.ChoiceFilter(choices=Message.Kind.choices, method="_by_selector")
    source = django_filters.ChoiceFilter(choices=Message.Source.choices, method="_by_selector")
    template = django_filters.CharFilter(method="_by_selector", label="Template name")
    number = django_filters.CharFilter(
        method="_by_selector", label="Customer number, any form; a partial number matches inside"
    )
    date_from = django_filters.CharFilter(
        method="_by_selector", label="From this date (YYYY-MM-DD) or ISO date and time, inclusive"
    )
    date_to = django_filters.CharFilter(
        method="_by_selector", label="Until this date (its whole day) or ISO date and time, inclusive"
    )
    blast = django_filters.NumberFilter(method="_by_selector", label="Blast id: the messages of one blast")

    class Meta:
        model = Message
        fields: list[str] = []

    def _by_selector(self, queryset, name, value):  # pragma: no cover - filter_queryset does it all
        return queryset

    def filter_queryset(self, queryset):
        return selectors.messages_filter(queryset=queryset, filters=self.form.cleaned_data)


MESSAGE_ERRORS = error_responses(400, 401, 403, 404, 429)


class MessageListView(GenericAPIView):
    permission_classes = [IsProjectMember]
    serializer_class = MessageSerializer
    pagination_class = NewestFirstCursorPagination
    filterset_class = MessageFilter
    queryset = Message.objects.none()

    def get_queryset(self):
        return selectors.message_list(project=project_from_request(self.request), filters={})

    @extend_schema(
        operation_id="messages_list",
        summary="List messages, newest first",
        tags=["messages"],
        parameters=[PROJECT_PARAMETER],
        responses={200: MessageSerializer(many=True), **MESSAGE_ERRORS},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={"next": "https://portal.example/api/v1/messages/?cursor=cD0yMDI2", "previous": None,
                       "results": [ACCEPTED_EXAMPLE]},
            )
        ],
    )
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


DETAIL_EXAMPLE = {
    **ACCEPTED_EXAMPLE,
    "status": "read",
    "wappin_message_id": "5bc83037c79f5",
    "sent_at": "2026-03-10T09:15:03+07:00",
    "delivered_at": "2026-03-10T09:15:07+07:00",
    "read_at": "2026-03-10T09:16:44+07:00",
    "send_attempts": 1,
    "timeline": [
        {"status": "queued", "occurred_at": "2026-03-10T09:15:02+07:00", "source": "portal", "applied": True, "detail": ""},
        {"status": "sent", "occurred_at": "2026-03-10T09:15:03+07:00", "source": "send_answer", "applied": True,
         "detail": "Accepted by Wappin as 5bc83037c79f5."},
        {"status": "delivered", "occurred_at": "2026-03-10T09:15:07+07:00", "source": "callback", "applied": True, "detail": ""},
        {"status": "read", "occurred_at": "2026-03-10T09:16:44+07:00", "source": "callback", "applied": True, "detail": ""},
    ],
}


class MessageDetailView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="messages_retrieve",
        summary="A message with its status timeline",
        tags=["messages"],
        parameters=[PROJECT_PARAMETER],
        responses={
            200: OpenApiResponse(
                MessageDetailSerializer,
                examples=[OpenApiExample("Read", value=DETAIL_EXAMPLE, response_only=True)],
            ),
            **MESSAGE_ERRORS,
        },
    )
    def get(self, request: Request, message_id: int) -> Response:
        message = selectors.message_get(project=project_from_request(request), message_id=message_id)
        return Response(MessageDetailSerializer(message).data)


class MessageRefreshStatusView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="messages_refresh_status",
        summary="Ask Wappin (inquiry) for the message's status now",
        description="Records each step Wappin reports (source `inquiry`); statuses only move forward.",
        tags=["messages"],
        parameters=[PROJECT_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(
                MessageDetailSerializer,
                examples=[OpenApiExample("Refreshed", value=DETAIL_EXAMPLE, response_only=True)],
            ),
            **error_responses(400, 401, 403, 404, 409, 429, 503),
        },
    )
    def post(self, request: Request, message_id: int) -> Response:
        project = project_from_request(request, roles=WRITE_ROLES)
        message = selectors.message_get(project=project, message_id=message_id)
        try:
            services.message_refresh_status(message_id=message.pk)
        except WappinError as exc:
            if exc.status_code < 500:
                raise
            # Whatever broke on Wappin's side (down, slow, our credentials), the caller can only retry later.
            raise ServiceUnavailable(
                f"Wappin could not tell this message's status now: {exc.message}", code=exc.code
            ) from exc
        message = selectors.message_get(project=project, message_id=message.pk)
        return Response(MessageDetailSerializer(message).data)


# --- contacts ---------------------------------------------------------------------------

CONTACT_EXAMPLE = {
    "id": 7,
    "phone_number": "6281234567890",
    "name": "Sari",
    "attributes": {"city": "Bandung"},
    "groups": ["VIP"],
    "last_inbound_at": "2026-03-10T08:01:00+07:00",
    "is_opted_out": False,
    "opted_out_at": None,
    "created_at": "2026-03-01T10:00:00+07:00",
}
CONTACT_INPUT_EXAMPLE = OpenApiExample(
    "New contact", request_only=True, value={"phone_number": "0812-3456-7890", "name": "Sari", "attributes": {"city": "Bandung"}}
)


def _contact_response(status_code: int, description: str) -> dict:
    return {
        status_code: OpenApiResponse(
            ContactSerializer,
            description=description,
            examples=[OpenApiExample("Contact", value=CONTACT_EXAMPLE, response_only=True)],
        )
    }


class ContactListView(GenericAPIView):
    permission_classes = [IsProjectMember]
    serializer_class = ContactSerializer
    pagination_class = NewestFirstCursorPagination
    queryset = Contact.objects.none()
    filter_backends: list = []

    @extend_schema(
        operation_id="contacts_list",
        summary="List contacts",
        tags=["contacts"],
        parameters=[
            PROJECT_PARAMETER,
            OpenApiParameter("search", OpenApiTypes.STR, description="Part of a name or number."),
            OpenApiParameter("opted_out", OpenApiTypes.BOOL, description="Only those who sent STOP (or not)."),
        ],
        responses={200: ContactSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample("A page", response_only=True, value={"next": None, "previous": None, "results": [CONTACT_EXAMPLE]})
        ],
    )
    def get(self, request: Request) -> Response:
        filters = {key: request.query_params.get(key) for key in ("search", "opted_out")}
        queryset = selectors.contact_list(project=project_from_request(request), filters=filters)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="contacts_create",
        summary="Add a contact",
        description="The number is normalised; a number the project already has is refused with 409.",
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        request=ContactSerializer,
        responses={**_contact_response(201, "Created."), **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[CONTACT_INPUT_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        project = project_from_request(request, roles=WRITE_ROLES)
        serializer = ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(project=project, **serializer.validated_data)
        return Response(ContactSerializer(contact).data, status=http.HTTP_201_CREATED)


class ContactDetailView(APIView):
    permission_classes = [IsProjectMember]

    def _contact(self, request: Request, contact_id: int, *, write: bool = False) -> Contact:
        project = project_from_request(request, roles=WRITE_ROLES if write else None)
        return selectors.contact_get(project=project, contact_id=contact_id)

    @extend_schema(
        operation_id="contacts_retrieve",
        summary="A contact",
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        responses={**_contact_response(200, "The contact."), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ContactSerializer(self._contact(request, contact_id)).data)

    @extend_schema(
        operation_id="contacts_update",
        summary="Change a contact (name, attributes, number)",
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        request=ContactSerializer,
        responses={**_contact_response(200, "Changed."), **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[CONTACT_INPUT_EXAMPLE],
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = self._contact(request, contact_id, write=True)
        serializer = ContactSerializer(contact, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, **serializer.validated_data)
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        operation_id="contacts_destroy",
        summary="Delete a contact (its messages stay in the history)",
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        request=None,
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 403, 404, 429)},
    )
    def delete(self, request: Request, contact_id: int) -> Response:
        services.contact_delete(contact=self._contact(request, contact_id, write=True))
        return Response(status=http.HTTP_204_NO_CONTENT)
