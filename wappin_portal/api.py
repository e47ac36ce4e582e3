"""REST plumbing shared by every app: the error shape and the exception handler.

Every error answer has one shape: `{"error": {"code", "message", "fields"?}}`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, parsers, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from wappin_portal.errors import ApplicationError, ValidationFailed


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but JSON nested thousands of levels deep is a 400, not a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(
                _("JSON parse error - the body is nested too deeply.")
            ) from exc


SERVER_ERROR_MESSAGE = gettext_lazy(
    "The server failed to answer this request; the error was logged. Try again later."
)


def api_error_response(*, code: str, message: str, status: int) -> JsonResponse:
    """An error answer in the API's shape, for answers made outside DRF (Django's error handlers)."""
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _flatten(detail) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for sub in detail for item in _flatten(sub)]
    if isinstance(detail, dict):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    return [str(detail)]


@csrf_exempt  # it changes nothing; a CSRF refusal would be Django's HTML page instead of our shape
def api_not_found(request: HttpRequest) -> JsonResponse | HttpResponsePermanentRedirect:
    """Any /api/v1/ URL no endpoint matches: our error shape, never Django's HTML page.

    A missing trailing slash is named (a GET is redirected, as APPEND_SLASH would):
    a redirected POST would lose its body.
    """
    with_slash = f"{request.path}/"
    try:
        slash_matches = (
            not request.path.endswith("/") and resolve(with_slash).func is not api_not_found
        )
    except Resolver404:
        slash_matches = False
    if slash_matches and request.method in ("GET", "HEAD"):
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(with_slash + (f"?{query}" if query else ""))
    message = _("No API endpoint at %(path)s.") % {"path": request.path[:200]}
    if slash_matches:
        message = _("%(message)s Did you mean %(path)s (with the trailing slash)?") % {
            "message": message,
            "path": with_slash[:200],
        }
    return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)


def _request_refused(exc) -> ApplicationError | None:
    """Django's own refusals of a request body (raised while DRF parses it), in our shape.

    Left to Django they became its bare HTML "Bad Request (400)" page, with no reason.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return ApplicationError(
            _("The request's form fields are larger than %(limit)d MB (files are not counted).")
            % {"limit": limit},
            code="request_too_large",
            status_code=413,
        )
    if isinstance(exc, TooManyFieldsSent):
        return ValidationFailed(
            _("The request has more than %(count)d fields.")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS},
            code="too_many_fields",
        )
    if isinstance(exc, TooManyFilesSent):
        return ValidationFailed(
            _("The request has more than %(count)d files.")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES},
            code="too_many_files",
        )
    return None


def exception_handler(exc, context):
    exc = _request_refused(exc) or exc
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = ValidationFailed(_("The input is not valid."), fields=fields)
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.as_dict()}, status=exc.status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        return _unexpected_error(exc, context)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = (
            {key: _flatten(value) for key, value in detail.items()}
            if isinstance(detail, dict)
            else {"non_field_errors": _flatten(detail)}
        )
        first = next(iter(fields.items()))
        message = first[1][0] if first[0] == "non_field_errors" else f"{first[0]}: {first[1][0]}"
        response.data = {"error": {"code": "invalid", "message": message, "fields": fields}}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "error": {
                "code": codes if isinstance(codes, str) else "error",
                "message": " ".join(_flatten(exc.detail)),
            }
        }
    return response


def _unexpected_error(exc: Exception, context) -> Response:
    """A bug or an outage inside a view: a 500 in our shape, with the traceback in the log only."""
    set_rollback()
    response = Response(
        {"error": {"code": "server_error", "message": SERVER_ERROR_MESSAGE}}, status=500
    )
    request = context.get("request")
    # Logged as Django logs an unhandled exception (django.request, with the request), and once.
    log_response(
        "Internal Server Error: %s",
        request.path if request is not None else "?",
        response=response,
        request=getattr(request, "_request", request),
        exception=exc,
    )
    return response


ERROR_SERIALIZER = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "field": serializers.CharField(required=False),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()), required=False
                ),
            },
        )
    },
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The documented error answers of an endpoint, for `extend_schema(responses=...)`."""
    descriptions = {
        400: "The input is not valid; `error.fields` names each bad field.",
        401: "No valid API key or session.",
        403: "The key or user may not do this on this project.",
        404: "Not found in your project.",
        409: "Not allowed in the object's current state.",
        413: "The request's form fields are too large (files are checked per media type, with a 400).",
        422: "Wappin refused the request; `error.code` carries Wappin's status.",
        429: "Too many requests for this API key.",
        500: "An unexpected error on the server (logged); try again later.",
        503: "Wappin could not be reached; try again later.",
    }
    return {
        status: OpenApiResponse(response=ERROR_SERIALIZER, description=descriptions[status])
        for status in statuses
    }
