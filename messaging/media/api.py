"""A message's media through the REST API: GET /api/v1/messages/{id}/media/."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from messaging.api_common import PROJECT_PARAMETER
from messaging.history.selectors import message_get
from messaging.media.views import media_file_response
from projects.api import IsProjectMember, project_from_request
from wappin_portal.api import error_responses
from wappin_portal.errors import NotFound


class MessageMediaView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="messages_media_retrieve",
        summary="Download a message's media file",
        description="The image, document or audio sent (or received) with the message, as a "
        "download in its own content type. 404 `media_not_found` for a message without media.",
        tags=["messages"],
        parameters=[PROJECT_PARAMETER],
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            **error_responses(401, 403, 404, 429),
        },
    )
    def get(self, request: Request, message_id: int) -> HttpResponse:
        message = message_get(project=project_from_request(request), message_id=message_id)
        if not message.media:
            raise NotFound(_("This message has no media file."), code="media_not_found")
        try:
            return media_file_response(path=message.media.name)
        except Http404 as exc:
            raise NotFound(
                _("The media file is no longer stored."), code="media_not_found"
            ) from exc
