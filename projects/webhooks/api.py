"""`/api/v1/webhook-endpoints/`: a project's webhook endpoints, their secret, test and log.

Admins and developers only (API keys have the developer role). Thin: the services decide.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api import IsProjectMember, project_from_request
from projects.models import ApiKey, Project
from projects.webhooks import selectors, services
from projects.webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from wappin_portal.api import error_responses

TAGS = ["webhooks"]

ENDPOINT_EXAMPLE = {
    "id": 3,
    "url": "https://example.com/hooks/wappin",
    "description": "order service",
    "event_types": ["message.sent", "message.delivered", "message.read", "message.failed"],
    "is_active": True,
    "disabled_at": None,
    "disabled_reason": "",
    "failing_since": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-03-10T09:15:02.123456+07:00",
}
SECRET_EXAMPLE = {**ENDPOINT_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}


class DeliveryPagination(CursorPagination):
    # The messages' cursor pages (messaging.api_common), over this log: an app below cannot import it.
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _who(request: Request) -> dict:
    """The audit's actor: the API key, or the session's user."""
    if isinstance(request.auth, ApiKey):
        return {"api_key": request.auth}
    return {"actor": request.user}


def _project(request: Request) -> Project:
    return project_from_request(request, capability="webhook.manage")


class WebhookEndpointListView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="webhook_endpoints_list",
        summary="List webhook endpoints",
        tags=TAGS,
        responses={
            200: WebhookEndpointSerializer(many=True),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request: Request) -> Response:
        endpoints = selectors.webhook_endpoint_list(project=_project(request))
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        summary="Add a webhook endpoint",
        description="The answer carries the signing `secret`, once: store it to verify signatures.",
        tags=TAGS,
        request=WebhookEndpointInputSerializer,
        responses={
            201: OpenApiResponse(
                WebhookEndpointWithSecretSerializer,
                description="Created; `secret` is shown in this answer only.",
                examples=[OpenApiExample("Created", value=SECRET_EXAMPLE, response_only=True)],
            ),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
    )
    def post(self, request: Request) -> Response:
        project = _project(request)
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.webhook_endpoint_create(
            project=project,
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description", ""),
            **_who(request),
        )
        body = WebhookEndpointSerializer(created.endpoint).data | {"secret": created.secret}
        response = Response(body, status=http.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class WebhookEndpointDetailView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        summary="A webhook endpoint",
        tags=TAGS,
        responses={200: WebhookEndpointSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        summary="Change a webhook endpoint",
        description="Any of `url`, `event_types`, `description`, `is_active` (true enables a "
        "disabled endpoint again).",
        tags=TAGS,
        request=WebhookEndpointInputSerializer(partial=True),
        responses={200: WebhookEndpointSerializer, **error_responses(400, 401, 403, 404, 429)},
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        serializer = WebhookEndpointInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint, **serializer.validated_data, **_who(request)
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        summary="Delete a webhook endpoint (and its delivery log)",
        tags=TAGS,
        responses={204: None, **error_responses(401, 403, 404, 429)},
    )
    def delete(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        services.webhook_endpoint_delete(endpoint=endpoint, **_who(request))
        return Response(status=http.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="Rotate the signing secret",
        description="A new secret (in this answer only). For 24 hours deliveries carry two "
        "signatures, by the new and the old secret, so the receiver can switch without a gap.",
        tags=TAGS,
        request=None,
        responses={
            200: OpenApiResponse(
                WebhookEndpointWithSecretSerializer,
                examples=[OpenApiExample("Rotated", value=SECRET_EXAMPLE, response_only=True)],
            ),
            **error_responses(401, 403, 404, 429),
        },
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        rotated = services.webhook_endpoint_secret_rotate(endpoint=endpoint, **_who(request))
        body = WebhookEndpointSerializer(rotated.endpoint).data | {"secret": rotated.secret}
        response = Response(body)
        response["Cache-Control"] = "no-store"
        return response


class WebhookEndpointTestView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="webhook_endpoints_test",
        summary="Send a test event",
        description="Queues a `webhook.test` event to this endpoint; its outcome shows in the "
        "delivery log.",
        tags=TAGS,
        request=None,
        responses={202: WebhookDeliverySerializer, **error_responses(401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        delivery = services.webhook_endpoint_test_send(endpoint=endpoint, **_who(request))
        return Response(WebhookDeliverySerializer(delivery).data, status=http.HTTP_202_ACCEPTED)


class WebhookDeliveryListView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="webhook_deliveries_list",
        summary="An endpoint's delivery log",
        description="Newest first, each delivery with its attempts (request headers without "
        "the signature, response code, the first 2 KB of the answer, duration).",
        tags=TAGS,
        responses={
            200: WebhookDeliverySerializer(many=True),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        paginator = DeliveryPagination()
        page = paginator.paginate_queryset(
            selectors.webhook_delivery_list(endpoint=endpoint), request, view=self
        )
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryResendView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="webhook_deliveries_resend",
        summary="Send a delivery again",
        description="Same `webhook-id` (a receiver that has it already can drop it), retried "
        "as a new delivery would be.",
        tags=TAGS,
        request=None,
        responses={202: WebhookDeliverySerializer, **error_responses(401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, endpoint_id: int, delivery_id: int) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            project=_project(request), endpoint_id=endpoint_id
        )
        delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        delivery = services.webhook_delivery_resend(delivery=delivery, **_who(request))
        return Response(WebhookDeliverySerializer(delivery).data, status=http.HTTP_202_ACCEPTED)
