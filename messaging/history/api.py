"""The history endpoints of the REST API: the message list (cursor pages, filters), one message, a status refresh."""

from __future__ import annotations

from django import forms

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import ACCEPTED_EXAMPLE, PROJECT_PARAMETER, NewestFirstCursorPagination
from messaging.history import selectors
from messaging.history.serializers import MessageDetailSerializer, MessageSerializer
from messaging.models import Message
from messaging.sending.delivery import message_refresh_status
from messaging.wappin.exceptions import WappinError
from projects.api import IsProjectMember, api_caller, project_from_request
from wappin_portal.api import error_responses
from wappin_portal.errors import ServiceUnavailable


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number (NumberFilter takes 0.5)."""

    field_class = forms.IntegerField


class MessageFilter(django_filters.FilterSet):
    """Parses and documents the history filters; the filtering itself is `selectors.messages_filter`."""

    status = django_filters.ChoiceFilter(choices=Message.Status.choices, method="_by_selector")
    direction = django_filters.ChoiceFilter(
        choices=Message.Direction.choices, method="_by_selector"
    )
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
        method="_by_selector",
        label="Until this date (its whole day) or ISO date and time, inclusive",
    )
    blast = IdFilter(method="_by_selector", label="Blast id: the messages of one blast")

    class Meta:
        model = Message
        fields: list[str] = []

    def _by_selector(self, queryset, name, value):  # pragma: no cover - filter_queryset does it all
        return queryset

    def filter_queryset(self, queryset):
        region = project_from_request(self.request).default_region
        return selectors.messages_filter(
            queryset=queryset, filters=self.form.cleaned_data, region=region
        )


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
                value={
                    "next": "https://portal.example/api/v1/messages/?cursor=cD0yMDI2",
                    "previous": None,
                    "results": [ACCEPTED_EXAMPLE],
                },
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
        {
            "status": "queued",
            "occurred_at": "2026-03-10T09:15:02+07:00",
            "source": "portal",
            "applied": True,
            "detail": "",
        },
        {
            "status": "sent",
            "occurred_at": "2026-03-10T09:15:03+07:00",
            "source": "send_answer",
            "applied": True,
            "detail": "Accepted by Wappin as 5bc83037c79f5.",
        },
        {
            "status": "delivered",
            "occurred_at": "2026-03-10T09:15:07+07:00",
            "source": "callback",
            "applied": True,
            "detail": "",
        },
        {
            "status": "read",
            "occurred_at": "2026-03-10T09:16:44+07:00",
            "source": "callback",
            "applied": True,
            "detail": "",
        },
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
        message = selectors.message_get(
            project=project_from_request(request), message_id=message_id
        )
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
        project = project_from_request(request, capability="message.send")
        message = selectors.message_get(project=project, message_id=message_id)
        try:
            message_refresh_status(message_id=message.pk, **api_caller(request))
        except WappinError as exc:
            if exc.status_code < 500:
                raise
            # Whatever broke on Wappin's side (down, slow, our credentials), the caller can only retry later.
            raise ServiceUnavailable(
                f"Wappin could not tell this message's status now: {exc.message}", code=exc.code
            ) from exc
        message = selectors.message_get(project=project, message_id=message.pk)
        return Response(MessageDetailSerializer(message).data)
