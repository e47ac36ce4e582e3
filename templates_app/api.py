"""REST API for templates and chatbot keywords. Thin: parse, call a service or selector, shape the answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api import IsProjectMember, api_caller, project_from_request
from templates_app import services
from templates_app.models import ChatbotKeyword, Template, TemplateLanguage
from templates_app.selectors import (
    keyword_get,
    keyword_list,
    template_get,
    template_language_resolve,
    template_list,
    template_preview,
)
from wappin_portal.api import (
    JSONParser,
    MultiPartParser,
    StrictCursorPagination,
    StrictSerializer,
    error_responses,
    filter_choice,
)

# --- Serializers --------------------------------------------------------------------------------


class ButtonSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=["url", "quick_reply"])
    text = serializers.CharField()
    url = serializers.CharField(required=False, help_text="URL buttons: http(s), may end in {{1}}.")
    payload = serializers.CharField(
        required=False, help_text="Quick replies: sent back when tapped."
    )


class TemplateLanguageSerializer(serializers.ModelSerializer):
    buttons = ButtonSerializer(many=True, required=False)

    class Meta:
        model = TemplateLanguage
        fields = [
            "language_code",
            "position",
            "header_type",
            "header_text",
            "body",
            "footer",
            "buttons",
            "body_param_count",
            "header_has_param",
            "header_is_media",
            "url_button_has_param",
            "quick_reply_count",
        ]
        read_only_fields = [
            "position",
            "body_param_count",
            "header_has_param",
            "header_is_media",
            "url_button_has_param",
            "quick_reply_count",
        ]


class TemplateSerializer(serializers.ModelSerializer):
    languages = TemplateLanguageSerializer(many=True, read_only=True)

    class Meta:
        model = Template
        fields = [
            "id",
            "name",
            "message_type",
            "status",
            "rejection_reason",
            "languages",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LanguageInputSerializer(StrictSerializer):
    """Only shapes; the rules (lengths, placeholders, buttons) are the service's."""

    language_code = serializers.CharField(allow_blank=True)
    header_type = serializers.CharField(required=False, default="none")
    header_text = serializers.CharField(required=False, allow_blank=True, default="")
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    footer = serializers.CharField(required=False, allow_blank=True, default="")
    buttons = serializers.ListField(child=serializers.DictField(), required=False, default=list)


class TemplateInputSerializer(StrictSerializer):
    name = serializers.CharField(allow_blank=True)
    message_type = serializers.CharField(required=False, default=Template.MessageType.UTILITY)
    languages = LanguageInputSerializer(
        many=True, help_text="In order: the first is the default language."
    )


class TemplatePreviewInputSerializer(StrictSerializer):
    language_code = serializers.CharField(required=False, allow_blank=True, default="")
    params = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    header_param = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )
    button_url = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )


class PreviewSerializer(serializers.Serializer):
    template = serializers.CharField()
    language_code = serializers.CharField()
    header = serializers.DictField(allow_null=True)
    body = serializers.CharField()
    footer = serializers.CharField()
    buttons = serializers.ListField(child=serializers.DictField())
    param_count = serializers.IntegerField()
    header_has_param = serializers.BooleanField()


class ChatbotKeywordSerializer(serializers.ModelSerializer):
    response_media = serializers.FileField(read_only=True, use_url=True)

    class Meta:
        model = ChatbotKeyword
        fields = [
            "id",
            "keyword",
            "normalized_keyword",
            "template_name",
            "scenario",
            "response_type",
            "response_text",
            "response_media",
            "caption",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChatbotKeywordInputSerializer(StrictSerializer):
    keyword = serializers.CharField(allow_blank=True)
    template_name = serializers.CharField(allow_blank=True)
    scenario = serializers.CharField(required=False, default=ChatbotKeyword.Scenario.NORMAL)
    response_type = serializers.CharField(required=False, default=ChatbotKeyword.ResponseType.TEXT)
    response_text = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    response_media = serializers.FileField(
        required=False, help_text="image/document/audio responses: the file (multipart/form-data)."
    )
    caption = serializers.CharField(required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True)


# --- Helpers -----------------------------------------------------------------------------------


def _languages(data: list[dict]) -> list[dict]:
    return [dict(language) for language in data]


TEMPLATE_EXAMPLE = {
    "name": "order_shipped",
    "message_type": "utility",
    "languages": [
        {
            "language_code": "id",
            "header_type": "text",
            "header_text": "Pesanan {{1}}",
            "body": "Halo {{1}}, pesanan {{2}} sudah dikirim dan tiba {{3}}.",
            "footer": "Demo Shop",
            "buttons": [
                {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
                {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
            ],
        }
    ],
}
PROJECT_PARAMETER = OpenApiParameter(
    "project",
    OpenApiTypes.INT,
    description="Session users with several projects: the project id. API keys: not needed.",
)


# --- Templates ----------------------------------------------------------------------------------


class ByNamePagination(StrictCursorPagination):
    ordering = ("name", "id")


class ByKeywordPagination(StrictCursorPagination):
    ordering = ("normalized_keyword", "id")


@extend_schema_view(
    get=extend_schema(
        summary="List templates",
        parameters=[
            PROJECT_PARAMETER,
            OpenApiParameter("status", OpenApiTypes.STR, enum=Template.Status.values),
            OpenApiParameter("name", OpenApiTypes.STR, description="Part of the name."),
        ],
        responses={200: TemplateSerializer(many=True), **error_responses(400, 401, 403, 404, 429)},
    ),
    post=extend_schema(
        summary="Create a template (a draft)",
        request=TemplateInputSerializer,
        responses={201: TemplateSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[OpenApiExample("A shipping notice", value=TEMPLATE_EXAMPLE, request_only=True)],
    ),
)
class TemplateListApi(GenericAPIView):
    permission_classes = [IsProjectMember]
    parser_classes = [JSONParser]  # `languages` is a list of objects: no form can carry it
    serializer_class = TemplateSerializer
    pagination_class = ByNamePagination
    queryset = Template.objects.none()
    filter_backends: list = []

    def get(self, request):
        project = project_from_request(request)
        templates = template_list(
            project=project,
            status=filter_choice(
                name="status",
                value=request.query_params.get("status"),
                choices=Template.Status.values,
            ),
            name=request.query_params.get("name", ""),
        )
        page = self.paginate_queryset(templates)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request):
        project = project_from_request(request, capability="template.manage")
        payload = TemplateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        template = services.template_create(
            project=project,
            name=data["name"],
            message_type=data["message_type"],
            languages=_languages(data["languages"]),
            **api_caller(request),
        )
        return Response(
            TemplateSerializer(template_get(project=project, template_id=template.pk)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        summary="Get a template",
        parameters=[PROJECT_PARAMETER],
        responses={200: TemplateSerializer, **error_responses(401, 403, 404, 429)},
    ),
    put=extend_schema(
        summary="Replace a draft or rejected template",
        description="Refused with 409 `template_locked` once the template is on process, approved or inactive.",
        request=TemplateInputSerializer,
        responses={200: TemplateSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[
            OpenApiExample("Fix a rejected template", value=TEMPLATE_EXAMPLE, request_only=True)
        ],
    ),
    patch=extend_schema(
        summary="Change parts of a draft or rejected template",
        description="`languages`, when given, replaces them all. 409 `template_locked` once on process.",
        request=TemplateInputSerializer(partial=True),
        responses={200: TemplateSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[
            OpenApiExample(
                "Change the message type", value={"message_type": "marketing"}, request_only=True
            )
        ],
    ),
    delete=extend_schema(
        summary="Delete a draft",
        description="Only a draft; 409 `template_not_draft` otherwise (deactivate an approved one instead).",
        responses={204: None, **error_responses(401, 403, 404, 409, 429)},
    ),
)
class TemplateDetailApi(APIView):
    permission_classes = [IsProjectMember]
    parser_classes = [JSONParser]  # `languages` is a list of objects: no form can carry it

    def _template(self, request, pk: int, *, write: bool = False) -> Template:
        project = project_from_request(
            request, capability="template.manage" if write else "project.read"
        )
        return template_get(project=project, template_id=pk)

    def get(self, request, pk: int):
        return Response(TemplateSerializer(self._template(request, pk)).data)

    def _update(self, request, pk: int, *, partial: bool):
        template = self._template(request, pk, write=True)
        payload = TemplateInputSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.template_update(
            template=template,
            name=data.get("name"),
            message_type=data.get("message_type")
            if (not partial or "message_type" in request.data)
            else None,
            languages=_languages(data["languages"]) if "languages" in data else None,
            **api_caller(request),
        )
        return Response(
            TemplateSerializer(template_get(project=template.project, template_id=template.pk)).data
        )

    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def delete(self, request, pk: int):
        services.template_delete(
            template=self._template(request, pk, write=True), **api_caller(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    summary="Request approval",
    description="A draft or rejected template goes on process and is locked (no edits) until WhatsApp decides.",
    request=None,
    parameters=[PROJECT_PARAMETER],
    responses={200: TemplateSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
)
class TemplateRequestApprovalApi(APIView):
    permission_classes = [IsProjectMember]

    def post(self, request, pk: int):
        project = project_from_request(request, capability="template.manage")
        template = template_get(project=project, template_id=pk)
        services.template_request_approval(template=template, **api_caller(request))
        return Response(TemplateSerializer(template_get(project=project, template_id=pk)).data)


class TemplateStatusReasonSerializer(StrictSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Why (kept in the template's history).",
    )


class _TemplateStatusApi(APIView):
    """A change of an approved/inactive template's state, with a reason: one service each."""

    permission_classes = [IsProjectMember]
    parser_classes = [JSONParser]
    capability: str
    change: staticmethod

    def post(self, request, pk: int):
        project = project_from_request(request, capability=self.capability)
        payload = TemplateStatusReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        self.change(
            template=template_get(project=project, template_id=pk),
            reason=payload.validated_data["reason"],
            **api_caller(request),
        )
        return Response(TemplateSerializer(template_get(project=project, template_id=pk)).data)


@extend_schema(
    summary="Deactivate an approved template",
    description="It can no longer be sent (Wappin answers such sends 'not found or inactive'); "
    "409 `template_status_invalid` unless it is approved. Reactivate it to send it again.",
    request=TemplateStatusReasonSerializer,
    parameters=[PROJECT_PARAMETER],
    responses={200: TemplateSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
)
class TemplateDeactivateApi(_TemplateStatusApi):
    capability = "template.manage"
    change = staticmethod(services.template_deactivate)


@extend_schema(
    summary="Reactivate an inactive template",
    description="It is approved (sendable) again; 409 `template_status_invalid` unless it is inactive. "
    "A project admin's job: 403 `role_not_allowed` for other roles (and API keys of other roles).",
    request=TemplateStatusReasonSerializer,
    parameters=[PROJECT_PARAMETER],
    responses={200: TemplateSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
)
class TemplateReactivateApi(_TemplateStatusApi):
    # An admin's job (a member must not undo a deactivation): an API key needs the admin role.
    capability = "template.decide"
    change = staticmethod(services.template_reactivate)


@extend_schema(
    summary="Preview a template",
    description=(
        "The message as a customer would see it. `language_code` empty: the template's first language. "
        "Params not given show as `[sample n]`."
    ),
    request=TemplatePreviewInputSerializer,
    parameters=[PROJECT_PARAMETER],
    responses={200: PreviewSerializer, **error_responses(400, 401, 403, 404, 429)},
    examples=[
        OpenApiExample(
            "Params for a shipping notice",
            value={
                "language_code": "id",
                "params": {"1": "Budi", "2": "INV-7"},
                "header_param": "INV-7",
            },
            request_only=True,
        ),
        OpenApiExample(
            "The rendered message",
            value={
                "template": "order_shipped",
                "language_code": "id",
                "header": {"type": "text", "text": "Pesanan INV-7"},
                "body": "Halo Budi, pesanan INV-7 sudah dikirim dan tiba [sample 3].",
                "footer": "Demo Shop",
                "buttons": [
                    {"type": "url", "text": "Lacak", "url": "https://shop.example/track/[sample 1]"}
                ],
                "param_count": 3,
                "header_has_param": True,
            },
            response_only=True,
        ),
    ],
)
class TemplatePreviewApi(APIView):
    permission_classes = [IsProjectMember]
    parser_classes = [JSONParser]  # `params` is an object: no form can carry it

    def post(self, request, pk: int):
        project = project_from_request(request)
        template = template_get(project=project, template_id=pk)
        payload = TemplatePreviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        language = template_language_resolve(
            project=project,
            template_name=template.name,
            language_code=data["language_code"],
            require_approved=False,
        )
        return Response(
            template_preview(
                language=language,
                params=data["params"],
                header_param=data["header_param"],
                button_url=data["button_url"],
            )
        )


# --- Chatbot keywords ---------------------------------------------------------------------------

KEYWORD_EXAMPLE = {
    "keyword": "PROMO",
    "template_name": "promo_reply",
    "scenario": "normal",
    "response_type": "text",
    "response_text": "Promo hari ini: diskon 20% untuk semua sepatu!",
}
KEYWORD_PARSERS = [JSONParser, MultiPartParser, FormParser]


@extend_schema_view(
    get=extend_schema(
        summary="List chatbot keywords",
        parameters=[PROJECT_PARAMETER],
        responses={
            200: ChatbotKeywordSerializer(many=True),
            **error_responses(400, 401, 403, 404, 429),
        },
    ),
    post=extend_schema(
        summary="Create a chatbot keyword",
        description=(
            "JSON for text responses; multipart/form-data with `response_media` for image, document or audio. "
            "A keyword matches the whole message or its first word, case- and space-insensitively; "
            "two keywords of a project may not match the same message."
        ),
        request={
            "application/json": ChatbotKeywordInputSerializer,
            "multipart/form-data": ChatbotKeywordInputSerializer,
        },
        responses={201: ChatbotKeywordSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[OpenApiExample("A text answer", value=KEYWORD_EXAMPLE, request_only=True)],
    ),
)
class ChatbotKeywordListApi(GenericAPIView):
    permission_classes = [IsProjectMember]
    parser_classes = KEYWORD_PARSERS
    serializer_class = ChatbotKeywordSerializer
    pagination_class = ByKeywordPagination
    queryset = ChatbotKeyword.objects.none()
    filter_backends: list = []

    def get(self, request):
        page = self.paginate_queryset(keyword_list(project=project_from_request(request)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request):
        project = project_from_request(request, capability="chatbot.manage")
        payload = ChatbotKeywordInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        keyword = services.keyword_create(
            project=project,
            response_media=data.pop("response_media", None),
            **data,
            **api_caller(request),
        )
        return Response(
            ChatbotKeywordSerializer(keyword, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        summary="Get a chatbot keyword",
        parameters=[PROJECT_PARAMETER],
        responses={200: ChatbotKeywordSerializer, **error_responses(401, 403, 404, 429)},
    ),
    put=extend_schema(
        summary="Replace a chatbot keyword",
        request={
            "application/json": ChatbotKeywordInputSerializer,
            "multipart/form-data": ChatbotKeywordInputSerializer,
        },
        responses={200: ChatbotKeywordSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[OpenApiExample("A text answer", value=KEYWORD_EXAMPLE, request_only=True)],
    ),
    patch=extend_schema(
        summary="Change parts of a chatbot keyword",
        description="A new `response_media` replaces the stored file; without it the stored file is kept.",
        request={
            "application/json": ChatbotKeywordInputSerializer(partial=True),
            "multipart/form-data": ChatbotKeywordInputSerializer(partial=True),
        },
        responses={200: ChatbotKeywordSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        examples=[OpenApiExample("Switch it off", value={"is_active": False}, request_only=True)],
    ),
    delete=extend_schema(
        summary="Delete a chatbot keyword",
        parameters=[PROJECT_PARAMETER],
        responses={204: None, **error_responses(401, 403, 404, 429)},
    ),
)
class ChatbotKeywordDetailApi(APIView):
    permission_classes = [IsProjectMember]
    parser_classes = KEYWORD_PARSERS

    def _keyword(self, request, pk: int, *, write: bool = False) -> ChatbotKeyword:
        project = project_from_request(
            request, capability="chatbot.manage" if write else "project.read"
        )
        return keyword_get(project=project, keyword_id=pk)

    def get(self, request, pk: int):
        return Response(
            ChatbotKeywordSerializer(self._keyword(request, pk), context={"request": request}).data
        )

    def _update(self, request, pk: int, *, partial: bool):
        keyword = self._keyword(request, pk, write=True)
        payload = ChatbotKeywordInputSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if partial:
            # Defaults fill absent fields even when partial; keep only what was sent.
            data = {name: value for name, value in data.items() if name in request.data}
        media = data.pop("response_media", None)
        keyword = services.keyword_update(
            chatbot_keyword=keyword, response_media=media, **data, **api_caller(request)
        )
        return Response(ChatbotKeywordSerializer(keyword, context={"request": request}).data)

    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def delete(self, request, pk: int):
        services.keyword_delete(
            chatbot_keyword=self._keyword(request, pk, write=True), **api_caller(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
