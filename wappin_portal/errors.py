"""The one error family that services raise.

Each error carries a message for people, a machine code, the HTTP status an API
answer should have, and optionally the field it is about. The DRF exception
handler (`wappin_portal.api`) and the UI helper (`wappin_portal.ui`) turn it
into an answer; nothing else needs to know how.
"""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: dict | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code

    @property
    def error_fields(self) -> dict[str, list[str]]:
        """What the API shows in `error.fields`: the field this error is about, if any."""
        return {self.field: [self.message]} if self.field else {}

    def as_dict(self) -> dict:
        """`code`, `message` and `fields`; the API's handler adds `type`, `request_id`, `doc_url`."""
        error = {"code": self.code, "message": self.message, "fields": self.error_fields}
        if self.extra:
            error.update(self.extra)
        return error


class ValidationFailed(ApplicationError):
    """Input that breaks a rule; several field errors may ride along in `fields`."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.fields = fields or ({kwargs["field"]: [message]} if kwargs.get("field") else {})

    @property
    def error_fields(self) -> dict[str, list[str]]:
        return self.fields


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class PermissionDenied(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class Conflict(ApplicationError):
    """The action is valid in general but not in the row's current state."""

    status_code = 409
    default_code = "conflict"


class ServiceUnavailable(ApplicationError):
    """An outside service (Wappin) could not be reached or failed; try again later."""

    status_code = 503
    default_code = "service_unavailable"
