"""What media WhatsApp (through Wappin) accepts: one check shared by keywords and sending.

The allowed file types come from Wappin's document (4.4 API Send Message (Media)):
document PDF, DOC(X), PPT(X), XLS(X); image JPG, JPEG, PNG; audio AAC, M4A, MP3,
OGG, OPUS. The size limits are WhatsApp's own (the document leaves them out):
image 5 MB, audio 16 MB, document 100 MB. A file over the limit is refused by
WhatsApp after Wappin has accepted it, so we refuse it before any call.
"""

from __future__ import annotations

import os

from wappin_portal.errors import ValidationFailed

MB = 1024 * 1024

MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("jpg", "jpeg", "png"),
    "document": ("pdf", "doc", "docx", "ppt", "pptx", "xls", "xlsx"),
    "audio": ("aac", "m4a", "mp3", "ogg", "opus"),
}

MEDIA_MAX_BYTES: dict[str, int] = {
    "image": 5 * MB,
    "audio": 16 * MB,
    "document": 100 * MB,
}

# Content types a browser or client may give that say nothing about the file.
GENERIC_CONTENT_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def _content_type_fits(media_type: str, content_type: str) -> bool:
    """Does a declared content type agree with the media type's family?

    Only the family is checked (browsers disagree on the exact type of .m4a,
    .opus or .doc files); the extension is what decides the format.
    """
    if content_type in GENERIC_CONTENT_TYPES:
        return True
    if media_type == "image":
        return content_type.startswith("image/")
    if media_type == "audio":
        return content_type.startswith("audio/") or content_type == "application/ogg"
    return content_type.startswith("application/")


def _a(media_type: str) -> str:
    """The media type in a sentence: 'an image', 'a document', 'an audio file'."""
    return {"image": "an image", "document": "a document", "audio": "an audio file"}.get(
        media_type, media_type
    )


def media_check(
    *,
    media_type: str,
    filename: str,
    size: int,
    content_type: str | None = None,
    field: str = "media",
) -> None:
    """Refuse a file WhatsApp would refuse: wrong media type, file type, or size.

    `field` names the form/API field the file came in (`media`, `response_media`).
    """
    if media_type not in MEDIA_TYPES:
        allowed = ", ".join(MEDIA_TYPES)
        raise ValidationFailed(
            f"Unsupported media type '{media_type}': use one of {allowed}.",
            field="media_type",
            code="media_type_invalid",
        )
    extensions = MEDIA_TYPES[media_type]
    extension = os.path.splitext(filename or "")[1].lower().lstrip(".")
    if extension not in extensions:
        shown = ", ".join(ext.upper() for ext in extensions)
        raise ValidationFailed(
            f"{_a(media_type).capitalize()} must be one of {shown}; '{filename or 'this file'}' is not.",
            field=field,
            code="media_file_type_invalid",
        )
    declared = (content_type or "").split(";")[0].strip().lower()
    if not _content_type_fits(media_type, declared):
        raise ValidationFailed(
            f"'{filename}' says it is {declared}, which is not {_a(media_type)}.",
            field=field,
            code="media_file_type_invalid",
        )
    if not size:
        raise ValidationFailed(f"'{filename}' is empty.", field=field, code="media_empty")
    limit = MEDIA_MAX_BYTES[media_type]
    if size > limit:
        raise ValidationFailed(
            f"'{filename}' is {size / MB:.1f} MB; WhatsApp takes {_a(media_type)} of at most {limit // MB} MB.",
            field=field,
            code="media_too_large",
        )
