"""What can go wrong when the portal talks to Wappin, one class per status code of the document.

Every error is an `ApplicationError` (so the API and the UI show its message
as is) and carries `wappin_status` (the body's status, "" when there was no
answer) and `retryable` (whether the same call may simply be tried again).
"""

from __future__ import annotations

from wappin_portal.errors import ApplicationError


class WappinError(ApplicationError):
    """Wappin refused or failed a call. Subclasses say why."""

    status_code = 502
    default_code = "wappin_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        wappin_status: str = "",
        retryable: bool | None = None,
        **kwargs,
    ) -> None:
        super().__init__(message, **kwargs)
        self.wappin_status = wappin_status
        if retryable is not None:
            self.retryable = retryable


class WappinBadRequest(WappinError):
    """400 "Error no input received": Wappin found a required field missing or malformed."""

    default_code = "wappin_bad_request"


class WappinClientProjectInvalid(WappinError):
    """400 "Project ID or Client ID cannot be process.": the project's Wappin ids are wrong."""

    default_code = "wappin_client_project_invalid"


class WappinParamCountMismatch(WappinError):
    """400 "Message param count do not match": the template on Wappin's side wants other params."""

    status_code = 400
    default_code = "wappin_param_count_mismatch"


class WappinAuthError(WappinError):
    """401 "Invalid credential" or 406 "Auth not recognize"."""

    default_code = "wappin_auth_error"


class WappinIPNotAllowed(WappinError):
    """407 "IP Address not allowed": this server is not on the integration's IP whitelist."""

    default_code = "wappin_ip_not_allowed"


class WappinTemplateNotFound(WappinError):
    """404 on a send: "API Notification Template not found or inactive"."""

    status_code = 404
    default_code = "wappin_template_not_found"


class WappinMessageNotFound(WappinError):
    """404 on an inquiry: "Data not Found"."""

    status_code = 404
    default_code = "wappin_message_not_found"


class WappinContactInvalid(WappinError):
    """601 "Contact invalid": the recipient is not a WhatsApp number."""

    status_code = 400
    default_code = "wappin_contact_invalid"


class WappinMediaUploadFailed(WappinError):
    """605 "Upload Media Failed": Wappin would not take the media file or media type."""

    status_code = 400
    default_code = "wappin_media_upload_failed"


class WappinUnavailable(WappinError):
    """Wappin could not be reached or answered with a server error: try again later."""

    status_code = 503
    default_code = "wappin_unavailable"
    retryable = True


class WappinTimeout(WappinUnavailable):
    """No answer in time after the request was sent: for a send, Wappin may or may not have it."""

    status_code = 504
    default_code = "wappin_timeout"
