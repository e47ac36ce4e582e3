"""What media WhatsApp (through Wappin) accepts: one check shared by keywords and sending.

The allowed file types come from Wappin's document (4.4 API Send Message (Media)):
document PDF, DOC(X), PPT(X), XLS(X); image JPG, JPEG, PNG; audio AAC, M4A, MP3,
OGG, OPUS. The size limits are WhatsApp's own (the document leaves them out):
image 5 MB, audio 16 MB, document 100 MB. A file over the limit is refused by
WhatsApp after Wappin has accepted it, so we refuse it before any call.

The file's first bytes must also be what its extension says (magic bytes, read by
the `filetype` package): a text file named `promo.png` is refused, not sent to
Wappin as an image.
"""

from __future__ import annotations

import os

from django.core.files import File
from django.utils.translation import gettext as _

import filetype

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

# What `filetype` may find at the start of a file of each extension. Some files carry their
# type deeper than the bytes read: Office 2007+ files are ZIP archives (the part that names
# Word, Excel or PowerPoint may come later), Office 97-2003 files are OLE2 compound files
# ("ole2" below: filetype knows only some of them), and .m4a is MPEG-4 (ftyp M4A, or mp42/isom).
CONTENT_KINDS: dict[str, frozenset[str]] = {
    "jpg": frozenset({"jpg"}),
    "jpeg": frozenset({"jpg"}),
    "png": frozenset({"png"}),
    "pdf": frozenset({"pdf"}),
    "doc": frozenset({"doc", "ole2"}),
    "xls": frozenset({"xls", "ole2"}),
    "ppt": frozenset({"ppt", "ole2"}),
    "docx": frozenset({"docx", "zip"}),
    "xlsx": frozenset({"xlsx", "zip"}),
    "pptx": frozenset({"pptx", "zip"}),
    "aac": frozenset({"aac"}),
    "m4a": frozenset({"m4a", "mp4"}),
    "mp3": frozenset({"mp3"}),
    "ogg": frozenset({"ogg"}),
    "opus": frozenset({"ogg"}),
}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# filetype reads this many bytes from the start of a file.
HEAD_BYTES = 8192

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


def media_head(file: File) -> bytes:
    """The first bytes of an uploaded file (what `media_check` reads its type from); the
    file's position is left where it was."""
    position = file.tell() if hasattr(file, "tell") else None
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(position or 0)
    return head if isinstance(head, bytes) else head.encode()


def content_kinds(head: bytes) -> set[str]:
    """Every file type whose signature `head` carries (filetype's matchers, and OLE2)."""
    kinds = {kind.extension for kind in filetype.types if kind.match(bytearray(head))}
    if head.startswith(OLE2_MAGIC):
        kinds.add("ole2")
    return kinds


def _a(media_type: str) -> str:
    """The media type in a sentence: 'an image', 'a document', 'an audio file'."""
    return {"image": _("an image"), "document": _("a document"), "audio": _("an audio file")}.get(
        media_type, media_type
    )


def _the(media_type: str) -> str:
    """The media type at the start of a sentence: 'An image', 'A document', 'An audio file'."""
    return {"image": _("An image"), "document": _("A document"), "audio": _("An audio file")}.get(
        media_type, media_type
    )


def media_check(
    *,
    media_type: str,
    filename: str,
    size: int,
    content_type: str | None = None,
    field: str = "media",
    head: bytes | None = None,
) -> None:
    """Refuse a file WhatsApp would refuse: wrong media type, file type, or size.

    `field` names the form/API field the file came in (`media`, `response_media`).
    `head`: the file's first bytes (`media_head`), checked against its extension;
    every upload passes them (only a file checked on its way in may leave them out).
    """
    if media_type not in MEDIA_TYPES:
        allowed = ", ".join(MEDIA_TYPES)
        raise ValidationFailed(
            _("Unsupported media type '%(type)s': use one of %(allowed)s.")
            % {"type": media_type, "allowed": allowed},
            field="media_type",
            code="media_type_invalid",
        )
    extensions = MEDIA_TYPES[media_type]
    extension = os.path.splitext(filename or "")[1].lower().lstrip(".")
    if extension not in extensions:
        shown = ", ".join(ext.upper() for ext in extensions)
        raise ValidationFailed(
            _("%(kind)s must be one of %(shown)s; '%(name)s' is not.")
            % {"kind": _the(media_type), "shown": shown, "name": filename or _("this file")},
            field=field,
            code="media_file_type_invalid",
        )
    declared = (content_type or "").split(";")[0].strip().lower()
    if not _content_type_fits(media_type, declared):
        raise ValidationFailed(
            _("'%(name)s' says it is %(declared)s, which is not %(kind)s.")
            % {"name": filename, "declared": declared, "kind": _a(media_type)},
            field=field,
            code="media_file_type_invalid",
        )
    if not size:
        raise ValidationFailed(
            _("'%(name)s' is empty.") % {"name": filename}, field=field, code="media_empty"
        )
    limit = MEDIA_MAX_BYTES[media_type]
    if size > limit:
        raise ValidationFailed(
            _("'%(name)s' is %(size).1f MB; WhatsApp takes %(kind)s of at most %(limit)s MB.")
            % {"name": filename, "size": size / MB, "kind": _a(media_type), "limit": limit // MB},
            field=field,
            code="media_too_large",
        )
    if head is not None and not CONTENT_KINDS[extension] & content_kinds(head):
        raise ValidationFailed(
            _("'%(name)s' is not a real %(extension)s file: its content is something else.")
            % {"name": filename, "extension": extension.upper()},
            field=field,
            code="media_content_mismatch",
        )
