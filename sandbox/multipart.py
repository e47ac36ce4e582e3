"""multipart/form-data parsing with the stdlib ``email`` package (``cgi`` is gone in 3.13)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class FormData:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


class MultipartError(ValueError):
    pass


def multipart_parse(content_type: str, body: bytes) -> FormData:
    """Parse a multipart body; ``content_type`` is the request's header, boundary included."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("not multipart/form-data")
    # The parser wants a whole MIME message: give it a synthetic header block.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise MultipartError("malformed multipart body")
    form = FormData()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            form.files[str(name)] = UploadedFile(
                filename=str(filename),
                content_type=part.get_content_type(),
                data=payload,
            )
        else:
            charset = part.get_content_charset() or "utf-8"
            form.fields[str(name)] = payload.decode(charset, "replace")
    return form
