"""The blasts REST API: create and edit drafts, start (now or at `scheduled_at`), pause, resume,
cancel, and follow the figures and the recipients. Thin views over `messaging.blasts.services`.

`template` and `group` are given by id or by name (a value of digits is tried as an id first).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import PROJECT_PARAMETER, NewestFirstCursorPagination
from messaging.blasts import selectors, services
from messaging.blasts.mapping import blast_mapping_from_api
from messaging.blasts.serializers import (
    BlastDetailSerializer,
    BlastRecipientPageSerializer,
    BlastRecipientSerializer,
    BlastSerializer,
    BlastWriteSerializer,
)
from messaging.models import Blast, BlastRefusal, ContactGroup, Message
from projects.api import IsProjectMember, api_caller, project_from_request
from projects.models import Project
from templates_app.models import Template
from wappin_portal.api import error_responses
from wappin_portal.errors import ValidationFailed

BLAST_ERRORS = error_responses(400, 401, 403, 404, 409, 429)

COUNTS_EXAMPLE = {
    "total": 1200,
    "queued": 0,
    "sent": 310,
    "delivered": 520,
    "read": 301,
    "failed": 12,
    "refused": 47,
    "cancelled": 10,
}
BLAST_EXAMPLE = {
    "id": 42,
    "name": "June promo, Jakarta VIPs",
    "status": "done",
    "status_reason": "",
    "template": "weekend_promo",
    "template_id": 7,
    "language_code": "id",
    "group": 3,
    "group_name": "VIP",
    "params": {"1": {"contact_field": "name"}, "2": {"text": "INV-1"}},
    "header": {},
    "button": {"url": {"contact_field": "order"}},
    "scheduled_at": None,
    "started_at": "2026-06-01T09:00:00+07:00",
    "finished_at": "2026-06-01T09:02:41+07:00",
    "created_at": "2026-05-31T16:20:00+07:00",
    "counts": COUNTS_EXAMPLE,
}
DETAIL_EXAMPLE = {
    **BLAST_EXAMPLE,
    "reach": None,
    "reasons": {
        "failed": [
            {
                "code": "601",
                "reason": "Wappin refused the number 6281...: it is not on WhatsApp (601).",
                "count": 12,
            }
        ],
        "refused": [
            {
                "code": "contact_opted_out",
                "reason": "6281... opted out of marketing messages.",
                "count": 40,
            },
            {
                "code": "not_on_whatsapp",
                "reason": "Wappin answered before that 6281... is not on WhatsApp.",
                "count": 7,
            },
        ],
    },
}
CREATE_EXAMPLE = {
    "name": "June promo, Jakarta VIPs",
    "template": "weekend_promo",
    "language_code": "id",
    "group": "VIP",
    "params": {"1": {"contact_field": "name"}, "2": {"text": "INV-1"}},
    "header": {"param": {"text": "June"}},
    "button": {"url": {"contact_field": "order"}},
    "scheduled_at": None,
}

# The services name a mapping's field as the web form does; the API's caller posted these.
_FIELD_NAMES = {
    "header_param": "header.param",
    "button_url": "button.url",
    "template_name": "template",
}


def _api_field(name: str) -> str:
    if name.startswith("param_"):
        return f"params.{name.removeprefix('param_')}"
    return _FIELD_NAMES.get(name, name)


def _with_api_field_names(error: ValidationFailed) -> ValidationFailed:
    fields = {_api_field(name): messages for name, messages in (error.fields or {}).items()}
    return ValidationFailed(
        error.message, fields=fields, code=error.code, field=_api_field(error.field or "")
    )


def _template_name(*, project: Project, value: str) -> str:
    value = (value or "").strip()
    if value.isdigit():
        name = (
            Template.objects.filter(project=project, pk=int(value))
            .values_list("name", flat=True)
            .first()
        )
        if name:
            return name
    return value


def _group(*, project: Project, value) -> ContactGroup | None:
    if value in (None, ""):
        return None
    value = str(value).strip()
    groups = ContactGroup.objects.filter(project=project)
    group = (groups.filter(pk=int(value)).first() if value.isdigit() else None) or groups.filter(
        name=value
    ).first()
    if group is None:
        raise ValidationFailed(
            _("No such contact group in this project."), field="group", code="group_not_found"
        )
    return group


def _arguments(*, project: Project, data: dict, partial_keys: set[str] | None) -> dict:
    """The services' arguments from the API's fields (on PATCH only the fields given)."""
    given = (lambda key: key in partial_keys) if partial_keys is not None else (lambda key: True)
    arguments: dict = {}
    if given("name"):
        arguments["name"] = data["name"]
    if given("template"):
        arguments["template_name"] = _template_name(project=project, value=data["template"])
        arguments["language_code"] = data.get("language_code", "")
    elif given("language_code"):
        arguments["language_code"] = data["language_code"]
    if given("group"):
        arguments["group"] = _group(project=project, value=data.get("group"))
    if given("params"):
        params = data.get("params") or {}
        arguments["params"] = {
            str(slot): blast_mapping_from_api(value) for slot, value in params.items()
        }
    if given("header"):
        arguments["header_param"] = blast_mapping_from_api((data.get("header") or {}).get("param"))
    if given("button"):
        arguments["button_url"] = blast_mapping_from_api((data.get("button") or {}).get("url"))
    if given("scheduled_at"):
        arguments["scheduled_at"] = data.get("scheduled_at")
    return arguments


def _detail(blast: Blast) -> dict:
    blast = Blast.objects.select_related("group", "template", "project").get(pk=blast.pk)
    context = {
        "progress": selectors.blast_progress_many(blasts=[blast]),
        "reasons": selectors.blast_reasons(blast=blast),
        "reach": selectors.blast_reach(blast=blast) if blast.status == Blast.Status.DRAFT else None,
    }
    return BlastDetailSerializer(blast, context=context).data


class BlastListView(GenericAPIView):
    permission_classes = [IsProjectMember]
    serializer_class = BlastSerializer
    pagination_class = NewestFirstCursorPagination
    queryset = Blast.objects.none()

    @extend_schema(
        operation_id="blasts_list",
        summary="List blasts, newest first, with their counts",
        tags=["blasts"],
        parameters=[PROJECT_PARAMETER],
        responses={200: BlastSerializer(many=True), **BLAST_ERRORS},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={"next": None, "previous": None, "results": [BLAST_EXAMPLE]},
            )
        ],
    )
    def get(self, request: Request) -> Response:
        project = project_from_request(request)
        page = self.paginate_queryset(selectors.blast_list(project=project))
        context = {"progress": selectors.blast_progress_many(blasts=page)}
        return self.get_paginated_response(BlastSerializer(page, many=True, context=context).data)

    @extend_schema(
        operation_id="blasts_create",
        summary="Create a draft blast",
        description="Checked as a start would check it (template, every variable mapped). Start it with "
        "POST /api/v1/blasts/{id}/start/. Templates with a media header are created in the web UI.",
        tags=["blasts"],
        parameters=[PROJECT_PARAMETER],
        request=BlastWriteSerializer,
        examples=[OpenApiExample("A draft", value=CREATE_EXAMPLE, request_only=True)],
        responses={
            201: OpenApiResponse(
                BlastDetailSerializer,
                examples=[
                    OpenApiExample(
                        "Created",
                        value={
                            **DETAIL_EXAMPLE,
                            "status": "draft",
                            "started_at": None,
                            "finished_at": None,
                            "counts": {**COUNTS_EXAMPLE, "queued": 0},
                        },
                        response_only=True,
                    )
                ],
            ),
            **BLAST_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        project = project_from_request(request, capability="blast.run")
        serializer = BlastWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        caller = api_caller(request)
        try:
            blast = services.blast_create(
                project=project,
                created_by=caller["actor"],
                api_key=caller["api_key"],
                **_arguments(project=project, data=serializer.validated_data, partial_keys=None),
            )
        except ValidationFailed as error:
            raise _with_api_field_names(error) from error
        return Response(_detail(blast), status=201)


class BlastDetailView(APIView):
    permission_classes = [IsProjectMember]

    def _blast(self, request: Request, blast_id: int, *, write: bool = False) -> Blast:
        project = project_from_request(request, capability="blast.run" if write else "project.read")
        return selectors.blast_get(project=project, blast_id=blast_id)

    @extend_schema(
        operation_id="blasts_retrieve",
        summary="A blast with its counts per recipient status and the reasons of failures and refusals",
        tags=["blasts"],
        parameters=[PROJECT_PARAMETER],
        responses={
            200: OpenApiResponse(
                BlastDetailSerializer,
                examples=[OpenApiExample("Done", value=DETAIL_EXAMPLE, response_only=True)],
            ),
            **BLAST_ERRORS,
        },
    )
    def get(self, request: Request, blast_id: int) -> Response:
        return Response(_detail(self._blast(request, blast_id)))

    @extend_schema(
        operation_id="blasts_partial_update",
        summary="Change a draft (only the fields given)",
        tags=["blasts"],
        parameters=[PROJECT_PARAMETER],
        request=BlastWriteSerializer(partial=True),
        examples=[
            OpenApiExample(
                "Rename and schedule",
                request_only=True,
                value={"name": "June promo (2)", "scheduled_at": "2026-06-01T09:00:00+07:00"},
            )
        ],
        responses={200: BlastDetailSerializer, **BLAST_ERRORS},
    )
    def patch(self, request: Request, blast_id: int) -> Response:
        blast = self._blast(request, blast_id, write=True)
        serializer = BlastWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        keys = set(request.data.keys()) & set(BlastWriteSerializer().fields)
        caller = api_caller(request)
        try:
            blast = services.blast_update(
                blast_id=blast.pk,
                **caller,
                **_arguments(
                    project=blast.project, data=serializer.validated_data, partial_keys=keys
                ),
            )
        except ValidationFailed as error:
            raise _with_api_field_names(error) from error
        return Response(_detail(blast))

    @extend_schema(
        operation_id="blasts_destroy",
        summary="Delete a draft (a started blast is cancelled instead, and keeps its figures)",
        tags=["blasts"],
        parameters=[PROJECT_PARAMETER],
        responses={204: None, **BLAST_ERRORS},
    )
    def delete(self, request: Request, blast_id: int) -> Response:
        blast = self._blast(request, blast_id, write=True)
        services.blast_delete(blast_id=blast.pk, **api_caller(request))
        return Response(status=204)


_ACTIONS = {
    "start": (
        services.blast_start,
        "Start a draft: now, or at its `scheduled_at` (then it is `scheduled`)",
        "Refused (409) when nobody would get it: every contact opted out, not on WhatsApp, or lacking a value.",
    ),
    "pause": (
        services.blast_pause,
        "Pause a running blast",
        "Its queued messages wait; none is sent from the engine's next wave (within a second).",
    ),
    "resume": (
        services.blast_resume,
        "Resume a paused blast",
        "Its queued messages go, and the contacts left.",
    ),
    "cancel": (
        services.blast_cancel,
        "Cancel a blast",
        "Its messages not yet sent become `cancelled` (never "
        "counted as failed); the ones Wappin has keep their status.",
    ),
}


class BlastActionView(APIView):
    """One action on a blast (a subclass per action, each documented on its own)."""

    permission_classes = [IsProjectMember]
    action = "start"

    def post(self, request: Request, blast_id: int) -> Response:
        project = project_from_request(request, capability="blast.run")
        blast = selectors.blast_get(project=project, blast_id=blast_id)
        service = _ACTIONS[self.action][0]
        blast = service(blast_id=blast.pk, **api_caller(request))
        return Response(_detail(blast))


def _documented(action: str):
    _service, summary, description = _ACTIONS[action]
    return extend_schema(
        operation_id=f"blasts_{action}",
        summary=summary,
        description=description,
        tags=["blasts"],
        parameters=[PROJECT_PARAMETER],
        request=None,
        responses={
            200: OpenApiResponse(
                BlastDetailSerializer,
                examples=[
                    OpenApiExample(
                        "After",
                        value={
                            **DETAIL_EXAMPLE,
                            "status": {
                                "start": "running",
                                "pause": "paused",
                                "resume": "running",
                                "cancel": "cancelled",
                            }[action],
                        },
                        response_only=True,
                    )
                ],
            ),
            **BLAST_ERRORS,
        },
    )


class BlastStartView(BlastActionView):
    action = "start"

    @_documented("start")
    def post(self, request: Request, blast_id: int) -> Response:
        return super().post(request, blast_id)


class BlastPauseView(BlastActionView):
    action = "pause"

    @_documented("pause")
    def post(self, request: Request, blast_id: int) -> Response:
        return super().post(request, blast_id)


class BlastResumeView(BlastActionView):
    action = "resume"

    @_documented("resume")
    def post(self, request: Request, blast_id: int) -> Response:
        return super().post(request, blast_id)


class BlastCancelView(BlastActionView):
    action = "cancel"

    @_documented("cancel")
    def post(self, request: Request, blast_id: int) -> Response:
        return super().post(request, blast_id)


STATUS_PARAMETER = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    enum=list(selectors.RECIPIENT_STATUSES),
    required=False,
    description="Only the recipients in this status (queued holds sending and unknown ones).",
)


class BlastRecipientsView(APIView):
    """Its messages (oldest first), then its refused contacts: pages of `page_size` by `page` number."""

    permission_classes = [IsProjectMember]
    page_size = 100
    max_page_size = 1000

    @extend_schema(
        operation_id="blasts_recipients",
        summary="A blast's recipients with their status",
        tags=["blasts"],
        parameters=[
            PROJECT_PARAMETER,
            STATUS_PARAMETER,
            OpenApiParameter("page", OpenApiTypes.INT, required=False, description="From 1."),
            OpenApiParameter(
                "page_size", OpenApiTypes.INT, required=False, description="At most 1000."
            ),
        ],
        responses={200: BlastRecipientPageSerializer, **BLAST_ERRORS},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value={
                    "count": 2,
                    "next": None,
                    "previous": None,
                    "results": [
                        {
                            "contact_id": 5,
                            "phone_number": "6281200000001",
                            "name": "Budi",
                            "status": "read",
                            "reason": "",
                            "message_id": 901,
                            "wappin_message_id": "5bc83037c79f5",
                            "sent_at": "2026-06-01T09:00:01+07:00",
                            "delivered_at": "2026-06-01T09:00:04+07:00",
                            "read_at": "2026-06-01T09:10:00+07:00",
                        },
                        {
                            "contact_id": 6,
                            "phone_number": "6281200000002",
                            "name": "Sari",
                            "status": "refused",
                            "reason": "The contact has no 'order' attribute, needed for the URL button {{1}}.",
                            "message_id": None,
                            "wappin_message_id": "",
                            "sent_at": None,
                            "delivered_at": None,
                            "read_at": None,
                        },
                    ],
                },
            )
        ],
    )
    def get(self, request: Request, blast_id: int) -> Response:
        project = project_from_request(request)
        blast = selectors.blast_get(project=project, blast_id=blast_id)
        status = request.query_params.get("status", "")
        if status and status not in selectors.RECIPIENT_STATUSES:
            raise ValidationFailed(
                _("status must be one of: %(choices)s.")
                % {"choices": ", ".join(selectors.RECIPIENT_STATUSES)},
                field="status",
                code="filter_invalid",
            )
        page, size = self._int("page", 1), self._int("page_size", self.page_size)
        if size > self.max_page_size:
            raise ValidationFailed(
                _("page_size must be a whole number from 1 to %(max)d.")
                % {"max": self.max_page_size},
                field="page_size",
                code="page_size_invalid",
            )
        messages, refusals = selectors.blast_recipients(blast=blast, status=status)
        message_count, refusal_count = messages.count(), refusals.count()
        start, stop = (page - 1) * size, page * size
        rows = (
            [self._message_row(m) for m in messages[start : min(stop, message_count)]]
            if start < message_count
            else []
        )
        if stop > message_count:
            first = max(start - message_count, 0)
            rows += [self._refusal_row(r) for r in refusals[first : stop - message_count]]
        total = message_count + refusal_count
        url = request.build_absolute_uri(request.path)
        query = request.query_params.copy()

        def link(number: int) -> str:
            query["page"] = number
            return f"{url}?{query.urlencode()}"

        return Response(
            {
                "count": total,
                "next": link(page + 1) if stop < total else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": BlastRecipientSerializer(rows, many=True).data,
            }
        )

    def _int(self, name: str, default: int) -> int:
        raw = self.request.query_params.get(name, "")
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationFailed(
                _("%(name)s must be a positive number.") % {"name": name},
                field=name,
                code="page_size_invalid" if name == "page_size" else "page_invalid",
            )
        return int(raw)

    @staticmethod
    def _message_row(message: Message) -> dict:
        status = "queued" if message.status in Message.PENDING_STATUSES else message.status
        return {
            "contact_id": message.contact_id,
            "phone_number": message.phone_number,
            "name": message.contact.name if message.contact else "",
            "status": status,
            "reason": message.failure_reason if status in ("failed", "cancelled") else "",
            "message_id": message.pk,
            "wappin_message_id": message.wappin_message_id,
            "sent_at": message.sent_at,
            "delivered_at": message.delivered_at,
            "read_at": message.read_at,
        }

    @staticmethod
    def _refusal_row(refusal: BlastRefusal) -> dict:
        return {
            "contact_id": refusal.contact_id,
            "phone_number": refusal.phone_number,
            "name": refusal.contact.name if refusal.contact else "",
            "status": "refused",
            "reason": refusal.reason,
            "message_id": None,
            "wappin_message_id": "",
            "sent_at": None,
            "delivered_at": None,
            "read_at": None,
        }
