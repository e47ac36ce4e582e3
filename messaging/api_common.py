"""What the messaging REST API's packages share: the `project` parameter, cursor paging, a message's example."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from wappin_portal.api import StrictCursorPagination

PROJECT_PARAMETER = OpenApiParameter(
    "project",
    OpenApiTypes.INT,
    description="Session users only: the project's id (an API key always acts on its own project).",
    required=False,
)


class NewestFirstCursorPagination(StrictCursorPagination):
    """Cursor pages over (-created_at, -id): the `message_project_recent` index, fast at any depth."""

    ordering = ("-created_at", "-id")


# A message as the API shows it (the 202 answer of a send, a row of the history).
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
