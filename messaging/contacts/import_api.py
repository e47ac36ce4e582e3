"""REST API: contact imports, `/api/v1/contacts/imports/` (start one; follow its progress)."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import PROJECT_PARAMETER
from messaging.contacts import imports
from messaging.models import ContactImport, ContactImportRefusal
from projects.api import IsProjectMember, project_from_request
from projects.models import ApiKey
from wappin_portal.api import MultiPartParser, StrictSerializer, error_responses

IMPORT_STARTED_EXAMPLE = {"id": 12, "status": "queued"}
IMPORT_EXAMPLE = {
    "id": 12,
    "status": "done",
    "filename": "contacts.csv",
    "total_rows": 5,
    "imported": 3,
    "updated": 1,
    "refused": 1,
    "refusals": [
        {
            "row": 4,
            "value": "0812",
            "reason": "'0812' is not a valid phone number: it is too short.",
        }
    ],
    "refusals_shown": 1,
    "failure_reason": "",
    "created_at": "2026-03-01T10:00:00+07:00",
    "started_at": "2026-03-01T10:00:01+07:00",
    "finished_at": "2026-03-01T10:00:02+07:00",
}


class ContactImportUploadSerializer(StrictSerializer):
    file = serializers.FileField(
        help_text=(
            "A .csv or .xlsx file whose first row names the columns: name, phone and optionally group "
            "(several groups separated by ; or |). Up to 200 MB."
        )
    )


class ContactImportStartedSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactImport
        fields = ["id", "status"]


class ContactImportRefusalSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactImportRefusal
        fields = ["row", "value", "reason"]


class ContactImportSerializer(serializers.ModelSerializer):
    filename = serializers.CharField(source="original_filename", read_only=True)
    refusals = serializers.SerializerMethodField(
        help_text=f"The first {imports.IMPORT_REFUSALS_SHOWN} refused rows by row number; `refused` counts them all."
    )
    refusals_shown = serializers.SerializerMethodField(
        help_text="How many refusals `refusals` lists."
    )

    class Meta:
        model = ContactImport
        fields = [
            "id",
            "status",
            "filename",
            "total_rows",
            "imported",
            "updated",
            "refused",
            "refusals",
            "refusals_shown",
            "failure_reason",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _shown(self, contact_import: ContactImport) -> list[ContactImportRefusal]:
        if not hasattr(contact_import, "_refusals_shown"):
            refusals = imports.contact_import_refusals(contact_import=contact_import)
            contact_import._refusals_shown = list(refusals[: imports.IMPORT_REFUSALS_SHOWN])
        return contact_import._refusals_shown

    @extend_schema_field(ContactImportRefusalSerializer(many=True))
    def get_refusals(self, contact_import: ContactImport) -> list[dict]:
        return ContactImportRefusalSerializer(self._shown(contact_import), many=True).data

    def get_refusals_shown(self, contact_import: ContactImport) -> int:
        return len(self._shown(contact_import))


class ContactImportListView(APIView):
    permission_classes = [IsProjectMember]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="contact_imports_create",
        summary="Import contacts from a CSV or XLSX file",
        description=(
            "The file is stored and imported in the background: the answer (202) comes at once with the "
            "import's id; follow it with `GET /api/v1/contacts/imports/{id}/`. A number already in the "
            "project updates that contact's name (when the row has one) and adds its groups; opted-out "
            "contacts stay opted out. Each refused row is reported with its row number and reason."
        ),
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        request={"multipart/form-data": ContactImportUploadSerializer},
        responses={
            202: OpenApiResponse(
                ContactImportStartedSerializer,
                description="Queued.",
                examples=[
                    OpenApiExample("Queued", value=IMPORT_STARTED_EXAMPLE, response_only=True)
                ],
            ),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def post(self, request: Request) -> Response:
        project = project_from_request(request, capability="contact.edit")
        serializer = ContactImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        contact_import = imports.contact_import_start(
            project=project,
            upload=serializer.validated_data["file"],
            created_by=None if api_key else request.user,
            api_key=api_key,
        )
        return Response(
            ContactImportStartedSerializer(contact_import).data, status=http.HTTP_202_ACCEPTED
        )


class ContactImportDetailView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="contact_imports_retrieve",
        summary="A contact import's progress and refused rows",
        tags=["contacts"],
        parameters=[PROJECT_PARAMETER],
        responses={
            200: OpenApiResponse(
                ContactImportSerializer,
                examples=[OpenApiExample("Done", value=IMPORT_EXAMPLE, response_only=True)],
            ),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request: Request, import_id: int) -> Response:
        project = project_from_request(request)
        contact_import = imports.contact_import_get(project=project, import_id=import_id)
        return Response(ContactImportSerializer(contact_import).data)
