"""Which project an uploaded file belongs to: the row that stores it says."""

from __future__ import annotations

from messaging.models import Blast, Message
from templates_app.models import ChatbotKeyword


def media_owner_project_id(path: str) -> int | None:
    """The project of the row that stores this upload, or None when no row names it."""
    for model, field in ((Message, "media"), (Blast, "media"), (ChatbotKeyword, "response_media")):
        project_id = (
            model.objects.filter(**{field: path}).values_list("project_id", flat=True).first()
        )
        if project_id is not None:
            return project_id
    return None
