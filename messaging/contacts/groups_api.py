"""REST API: contact groups, `/api/v1/groups/` (CRUD of {"id", "name", "contact_count"})."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import PROJECT_PARAMETER
from messaging.contacts import groups
from messaging.models import ContactGroup
from projects.api import IsProjectMember, api_caller, project_from_request
from wappin_portal.api import StrictCursorPagination, StrictInputMixin, error_responses

GROUP_EXAMPLE = {"id": 3, "name": "VIP", "contact_count": 120}
GROUP_INPUT_EXAMPLE = OpenApiExample("A group", request_only=True, value={"name": "VIP"})


class GroupSerializer(StrictInputMixin, serializers.ModelSerializer):
    contact_count = serializers.IntegerField(
        read_only=True, help_text="How many contacts are in the group."
    )

    class Meta:
        model = ContactGroup
        fields = ["id", "name", "contact_count"]
        read_only_fields = ["id"]
        # Uniqueness (case-insensitive, a 409) is the service's: the model's exact-case
        # validator would answer 400 first.
        extra_kwargs = {
            "name": {"validators": [], "help_text": "Unique in the project, whatever its case."}
        }


class GroupPagination(StrictCursorPagination):
    ordering = ("name", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


def _group_response(status_code: int, description: str) -> dict:
    return {
        status_code: OpenApiResponse(
            GroupSerializer,
            description=description,
            examples=[OpenApiExample("Group", value=GROUP_EXAMPLE, response_only=True)],
        )
    }


class GroupListView(GenericAPIView):
    permission_classes = [IsProjectMember]
    serializer_class = GroupSerializer
    pagination_class = GroupPagination
    queryset = ContactGroup.objects.none()
    filter_backends: list = []

    @extend_schema(
        operation_id="groups_list",
        summary="List contact groups",
        tags=["groups"],
        parameters=[PROJECT_PARAMETER],
        responses={200: GroupSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={"next": None, "previous": None, "results": [GROUP_EXAMPLE]},
            )
        ],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(groups.group_list(project=project_from_request(request)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="groups_create",
        summary="Add a contact group",
        description="A name the project already has (whatever its case) is refused with 409 `group_name_taken`.",
        tags=["groups"],
        parameters=[PROJECT_PARAMETER],
        request=GroupSerializer,
        responses={
            **_group_response(201, "Created."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        examples=[GROUP_INPUT_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        project = project_from_request(request, capability="contact.edit")
        serializer = GroupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = groups.group_create(
            project=project, name=serializer.validated_data["name"], **api_caller(request)
        )
        return Response(GroupSerializer(group).data, status=http.HTTP_201_CREATED)


class GroupDetailView(APIView):
    permission_classes = [IsProjectMember]

    def _group(self, request: Request, group_id: int, *, write: bool = False) -> ContactGroup:
        project = project_from_request(
            request, capability="contact.edit" if write else "project.read"
        )
        return groups.group_get(project=project, group_id=group_id)

    @extend_schema(
        operation_id="groups_retrieve",
        summary="A contact group",
        tags=["groups"],
        parameters=[PROJECT_PARAMETER],
        responses={**_group_response(200, "The group."), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, group_id: int) -> Response:
        return Response(GroupSerializer(self._group(request, group_id)).data)

    def _rename(self, request: Request, group_id: int) -> Response:
        group = self._group(request, group_id, write=True)
        serializer = GroupSerializer(group, data=request.data)
        serializer.is_valid(raise_exception=True)
        group = groups.group_rename(
            group=group, name=serializer.validated_data["name"], **api_caller(request)
        )
        return Response(GroupSerializer(group).data)

    @extend_schema(
        operation_id="groups_update",
        summary="Rename a contact group",
        description="Its contacts stay in it. A name another group has is refused with 409 `group_name_taken`.",
        tags=["groups"],
        parameters=[PROJECT_PARAMETER],
        request=GroupSerializer,
        responses={
            **_group_response(200, "Renamed."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        examples=[GROUP_INPUT_EXAMPLE],
    )
    def put(self, request: Request, group_id: int) -> Response:
        return self._rename(request, group_id)

    @extend_schema(
        operation_id="groups_partial_update",
        summary="Rename a contact group",
        tags=["groups"],
        parameters=[PROJECT_PARAMETER],
        request=GroupSerializer,
        responses={
            **_group_response(200, "Renamed."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        examples=[GROUP_INPUT_EXAMPLE],
    )
    def patch(self, request: Request, group_id: int) -> Response:
        return self._rename(request, group_id)

    @extend_schema(
        operation_id="groups_destroy",
        summary="Delete a contact group (its contacts stay)",
        description="Refused with 409 `group_in_use` while a blast was sent to it.",
        tags=["groups"],
        parameters=[PROJECT_PARAMETER],
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(401, 403, 404, 409, 429),
        },
    )
    def delete(self, request: Request, group_id: int) -> Response:
        groups.group_delete(group=self._group(request, group_id, write=True), **api_caller(request))
        return Response(status=http.HTTP_204_NO_CONTENT)
