"""The contacts endpoints of the REST API: list, create, read, change, delete."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import PROJECT_PARAMETER, NewestFirstCursorPagination
from messaging.contacts import selectors, services
from messaging.contacts.serializers import ContactSerializer
from messaging.models import Contact
from projects.api import IsProjectMember, api_caller, project_from_request
from wappin_portal.api import error_responses, filter_choice

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
    "New contact",
    request_only=True,
    value={"phone_number": "0812-3456-7890", "name": "Sari", "attributes": {"city": "Bandung"}},
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
            OpenApiParameter(
                "opted_out", OpenApiTypes.BOOL, description="Only those who sent STOP (or not)."
            ),
        ],
        responses={200: ContactSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={"next": None, "previous": None, "results": [CONTACT_EXAMPLE]},
            )
        ],
    )
    def get(self, request: Request) -> Response:
        filters = {
            "search": request.query_params.get("search"),
            "opted_out": filter_choice(
                name="opted_out",
                value=request.query_params.get("opted_out"),
                choices=["true", "false"],
            )
            or None,
        }
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
        responses={
            **_contact_response(201, "Created."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        examples=[CONTACT_INPUT_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        project = project_from_request(request, capability="contact.edit")
        serializer = ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(
            project=project, **serializer.validated_data, **api_caller(request)
        )
        return Response(ContactSerializer(contact).data, status=http.HTTP_201_CREATED)


class ContactDetailView(APIView):
    permission_classes = [IsProjectMember]

    def _contact(self, request: Request, contact_id: int, *, write: bool = False) -> Contact:
        project = project_from_request(
            request, capability="contact.edit" if write else "project.read"
        )
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
        responses={
            **_contact_response(200, "Changed."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        examples=[CONTACT_INPUT_EXAMPLE],
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = self._contact(request, contact_id, write=True)
        serializer = ContactSerializer(contact, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(
            contact=contact, **serializer.validated_data, **api_caller(request)
        )
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        operation_id="contacts_destroy",
        summary="Delete a contact (its messages stay in the history)",
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(401, 403, 404, 429),
        },
    )
    def delete(self, request: Request, contact_id: int) -> Response:
        services.contact_delete(
            contact=self._contact(request, contact_id, write=True), **api_caller(request)
        )
        return Response(status=http.HTTP_204_NO_CONTENT)
