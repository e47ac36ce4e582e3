"""REST plumbing shared by every app: the error shape and the exception handler.

Every error answer has one shape, Stripe's:
`{"error": {"type", "code", "message", "fields", "request_id", "doc_url"}}`; `code` is one
of `wappin_portal.error_catalogue.ERROR_CATALOGUE`, `fields` maps each bad field (or
header, or parameter) to its messages, and the body stays small whatever the input.
"""

from __future__ import annotations

from itertools import islice

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.http import parse_header_parameters
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import exceptions, parsers, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from wappin_portal.error_catalogue import ERROR_CATALOGUE, error_type
from wappin_portal.errors import ApplicationError, ValidationFailed
from wappin_portal.logs import request_id_var


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but JSON nested thousands of levels deep is a 400, not a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(
                _("JSON parse error - the body is nested too deeply.")
            ) from exc


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, but a body with bytes and not one part in it is a 400, not `{}`.

    Such a body (garbage after a boundary) parsed as an empty form: a PATCH then changed
    nothing and answered 200, as if the request had been understood.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if parsed.data or parsed.files:
            return parsed
        request = (parser_context or {}).get("request")
        length = int((request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0)
        boundary = parse_header_parameters(media_type or "")[1].get("boundary", "")
        # An empty form is its closing boundary alone: `--<boundary>--` and a line break.
        if length > len(boundary) + 8:
            raise exceptions.ParseError(_("The multipart body has no readable part."))
        return parsed


class ApiKeyJsonNegotiation(DefaultContentNegotiation):
    """A request with credentials in `Authorization` (an API key) is answered in JSON whatever it accepts.

    `Accept: text/html` (browsers, Java's HttpURLConnection) or `?format=api` once got DRF's
    browsable page, which is for people signed in to the portal; a program wants JSON.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.META.get("HTTP_AUTHORIZATION"):
            for renderer in renderers:
                if renderer.media_type == "application/json":
                    return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


SERVER_ERROR_MESSAGE = gettext_lazy(
    "The server failed to answer this request; the error was logged. Try again later."
)


# An error answer stays small whatever the input (a body with 200,000 bad keys once got a
# 3.8 MB answer listing each): this many fields, messages per field, characters per text.
ERROR_MAX_FIELDS = 20
ERROR_MAX_MESSAGES_PER_FIELD = 3
ERROR_MAX_TEXT = 300


def _clip(text, limit: int = ERROR_MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _bounded_fields(fields: dict) -> tuple[dict[str, list[str]], int]:
    """At most ERROR_MAX_FIELDS fields of at most a few clipped messages; and how many were left out."""
    bounded = {}
    for name, messages in islice(fields.items(), ERROR_MAX_FIELDS):
        messages = messages if isinstance(messages, list | tuple) else [messages]
        bounded[_clip(name, 100)] = [_clip(m) for m in messages[:ERROR_MAX_MESSAGES_PER_FIELD]]
    return bounded, max(0, len(fields) - ERROR_MAX_FIELDS)


def error_doc_url(code: str) -> str:
    """Where a person reads what `code` means: the catalogue page's anchor for it."""
    return f"{settings.PORTAL_BASE_URL}/api/docs/errors/#{code}"


def error_body(
    *, code: str, message: str, status: int, fields: dict | None = None, extra: dict | None = None
) -> dict:
    """The one error object of the API, for DRF's handler and Django's handlers alike."""
    bounded, left_out = _bounded_fields(fields or {})
    message = _clip(message, 1000)
    if left_out:
        more = _("%(more)d more fields are wrong; only the first %(shown)d are listed.") % {
            "more": left_out,
            "shown": ERROR_MAX_FIELDS,
        }
        message = f"{message} ({more})"
    error = {
        "type": error_type(status),
        "code": code,
        "message": message,
        "fields": bounded,
        "request_id": request_id_var.get() or "",
        "doc_url": error_doc_url(code),
    }
    for key, value in (extra or {}).items():
        error.setdefault(key, value)
    return {"error": error}


def api_error_response(*, code: str, message: str, status: int) -> JsonResponse:
    """An error answer in the API's shape, for answers made outside DRF (Django's error handlers)."""
    return JsonResponse(error_body(code=code, message=message, status=status), status=status)


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
    return api_error_response(code="not_found", message=message, status=404)


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


def _leaf_codes(codes) -> set[str]:
    if isinstance(codes, dict):
        return {code for value in codes.values() for code in _leaf_codes(value)}
    if isinstance(codes, list):
        return {code for value in codes for code in _leaf_codes(value)}
    return {str(codes)}


def _application_error_response(exc: ApplicationError) -> Response:
    error = exc.as_dict()
    body = error_body(
        code=error.pop("code"),
        message=error.pop("message"),
        status=exc.status_code,
        fields=error.pop("fields"),
        extra=error,
    )
    return Response(body, status=exc.status_code)


def exception_handler(exc, context):
    exc = _request_refused(exc) or exc
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = ValidationFailed(_("The input is not valid."), fields=fields)
    if isinstance(exc, ApplicationError):
        return _application_error_response(exc)

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
        # One code per cause: a body whose only fault is fields it should not have says so.
        code = "unknown_field" if _leaf_codes(exc.get_codes()) == {"unknown_field"} else "invalid"
        response.data = error_body(
            code=code, message=message, status=response.status_code, fields=fields
        )
    elif isinstance(exc, exceptions.NotAuthenticated):
        response.data = error_body(
            code="not_authenticated",
            message=_("No credentials: send your API key as `Authorization: Api-Key <key>`."),
            status=response.status_code,
        )
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        fallback = "server_error" if response.status_code >= 500 else "invalid"
        code = codes if isinstance(codes, str) and codes in ERROR_CATALOGUE else fallback
        response.data = error_body(
            code=code, message=" ".join(_flatten(exc.detail)), status=response.status_code
        )
    return response


def _unexpected_error(exc: Exception, context) -> Response:
    """A bug or an outage inside a view: a 500 in our shape, with the traceback in the log only."""
    set_rollback()
    response = Response(
        error_body(code="server_error", message=SERVER_ERROR_MESSAGE, status=500), status=500
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


# --- Strict input ---------------------------------------------------------------------------

# Names any body may carry beside an endpoint's own fields: a session user's project.
ALWAYS_ALLOWED_FIELDS = frozenset({"project"})


def _json_type_problem(field: serializers.Field, value) -> str | None:
    """What is wrong with the JSON type of `value` for `field`, or None (null is the field's call)."""
    if value is None or field.read_only:
        return None
    # A field that takes more than its class's type says so (e.g. an id or a name).
    if isinstance(value, getattr(field, "json_also_accepts", ())):
        return None
    checks = (
        (serializers.BooleanField, lambda v: isinstance(v, bool), _("true or false")),
        (
            serializers.IntegerField,
            lambda v: isinstance(v, int) and not isinstance(v, bool),
            _("a whole number"),
        ),
        (
            serializers.FloatField,
            lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            _("a number"),
        ),
        (serializers.ChoiceField, lambda v: isinstance(v, str), _("text")),
        (serializers.CharField, lambda v: isinstance(v, str), _("text")),
        (serializers.DateTimeField, lambda v: isinstance(v, str), _("an ISO 8601 date and time")),
        (serializers.DictField, lambda v: isinstance(v, dict), _("an object")),
        (serializers.ListField, lambda v: isinstance(v, list), _("a list")),
        (serializers.ListSerializer, lambda v: isinstance(v, list), _("a list")),
        (serializers.Serializer, lambda v: isinstance(v, dict), _("an object")),
    )
    for field_class, fits, wanted in checks:
        if isinstance(field, field_class):
            return None if fits(value) else _("Must be %(type)s.") % {"type": wanted}
    return None


class StrictInputMixin:
    """A request body is taken as the schema says, or refused with each problem named (Stripe's rule).

    - A field the serializer does not know is an error (`unknown_field`), never silently
      dropped: `"language": "en"` for `language_code` once sent in the template's default
      language with a 202.
    - In a JSON body each value has its field's JSON type: `"name": 0` is not the text "0".
      (Forms carry only text; their values are parsed by the fields as before.)
    """

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(
                str(name)
                for name in data
                if name not in self.fields and name not in ALWAYS_ALLOWED_FIELDS
            )
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("This endpoint takes no such field.")] for name in unknown},
                    code="unknown_field",
                )
            if not hasattr(data, "getlist"):  # JSON, not a form
                wrong = {
                    name: [problem]
                    for name, value in data.items()
                    if name in self.fields
                    and (problem := _json_type_problem(self.fields[name], value))
                }
                if wrong:
                    raise serializers.ValidationError(wrong, code="invalid")
        return super().to_internal_value(data)


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    """The base of every request body's serializer."""


# --- Lists ---------------------------------------------------------------------------------


class StrictCursorPagination(CursorPagination):
    """Cursor pages, `{next, previous, results}`, for every list of the API.

    A cursor the list did not give, or a `page_size` that is not 1..max, is a 400 naming
    the parameter: DRF answered 404 for the first and silently ignored or capped the second.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationFailed(
                _("page_size must be a whole number from 1 to %(max)d.")
                % {"max": self.max_page_size},
                field="page_size",
                code="page_size_invalid",
            )
        return size

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise ValidationFailed(
                _(
                    "This cursor is not valid: use the `next` or `previous` link of a page as it is."
                ),
                field=self.cursor_query_param,
                code="cursor_invalid",
            ) from exc

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
                )
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "The position in the list: copy it from a page's `next` or `previous` link."
                )
        return parameters


def filter_choice(*, name: str, value: str | None, choices: list[str]) -> str:
    """A list filter's value: empty, or one of `choices`; anything else is a 400 naming it."""
    if value in (None, ""):
        return ""
    if value not in choices:
        raise ValidationFailed(
            _("%(name)s must be one of: %(choices)s.")
            % {"name": name, "choices": ", ".join(choices)},
            field=name,
            code="filter_invalid",
        )
    return value


# --- The schema's error answers --------------------------------------------------------------

ERROR_SERIALIZER = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "type": serializers.ChoiceField(
                    choices=[
                        "invalid_request_error",
                        "authentication_error",
                        "permission_error",
                        "idempotency_error",
                        "rate_limit_error",
                        "api_error",
                    ],
                    help_text="The family of the error: what kind of fix it needs.",
                ),
                "code": serializers.CharField(
                    help_text="A stable machine code; the catalogue in docs/api.md lists each."
                ),
                "message": serializers.CharField(help_text="What went wrong, for people."),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    help_text="Each bad field, header or parameter and its messages "
                    f"(at most {ERROR_MAX_FIELDS}); empty when the error is about no field.",
                ),
                "request_id": serializers.CharField(
                    help_text="The request's X-Request-Id: quote it when you ask for help."
                ),
                "doc_url": serializers.URLField(help_text="Where the code is explained."),
            },
        )
    },
)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The documented error answers of an endpoint, for `extend_schema(responses=...)`."""
    descriptions = {
        400: "The input is not valid; `error.fields` names each bad field.",
        401: "No valid API key or session (`WWW-Authenticate: Api-Key`).",
        403: "The key or user may not do this on this project.",
        404: "Not found in your project.",
        409: "Not allowed in the object's current state.",
        413: "The request's form fields are too large (files are checked per media type, with a 400).",
        422: "Wappin refused the request; `error.code` carries Wappin's status.",
        405: "The endpoint does not take this method.",
        406: "Never for an API key (always JSON); a session asking for another type only.",
        415: "The body's Content-Type is not one this endpoint takes.",
        429: "Too many requests for this API key; wait `Retry-After` seconds.",
        502: "Wappin refused or failed the call.",
        504: "Wappin did not answer in time.",
        500: "An unexpected error on the server (logged); try again later.",
        503: "Wappin could not be reached; try again later.",
    }
    return {
        status: OpenApiResponse(
            response=ERROR_SERIALIZER,
            description=descriptions[status],
            examples=_error_examples(status),
        )
        for status in statuses
    }


def _error_examples(status: int) -> list[OpenApiExample]:
    """One example per catalogue code of this status: the codes a client may meet, each shown."""
    return [
        OpenApiExample(
            code,
            value=_example_body(code, entry.description, status),
            response_only=True,
            status_codes=[str(status)],
        )
        for code, entry in ERROR_CATALOGUE.items()
        if entry.status == status
    ]


# What `fields` holds in the examples of the codes that name a field.
EXAMPLE_FIELDS = {
    "invalid": {"recipient_number": ["This field is required."]},
    "unknown_field": {"language": ["This endpoint takes no such field."]},
    "phone_invalid": {"recipient_number": ["'0812' is not a valid phone number."]},
    "template_params_invalid": {"params": ["Template 'order_shipped' [id] takes 2 params."]},
    "page_size_invalid": {"page_size": ["page_size must be a whole number from 1 to 200."]},
    "cursor_invalid": {"cursor": ["This cursor is not valid."]},
    "filter_invalid": {"status": ["status must be one of: draft, approved."]},
    "idempotency_key_reused": {"Idempotency-Key": ["This Idempotency-Key was already used."]},
    "template_exists": {"name": ["Demo Shop already has a template named 'order_shipped'."]},
}


def _example_body(code: str, description: str, status: int) -> dict:
    fields = EXAMPLE_FIELDS.get(code, {})
    return {
        "error": {
            "type": error_type(status),
            "code": code,
            "message": description,
            "fields": fields,
            "request_id": "7f3c2a9e0d1b4f6a8c5e2d1f0a9b8c7d",
            "doc_url": f"https://portal.example/api/docs/errors/#{code}",
        }
    }


# --- Headers every answer carries, in the schema -------------------------------------------

_INTEGER = {"type": "integer"}
RESPONSE_HEADERS = {
    "X-Request-Id": {
        "description": "The request's id: yours if you sent a sane X-Request-Id "
        "(up to 64 of A-Z a-z 0-9 . _ -), else a new one. In every log line and error body.",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {
        "description": "Requests this API key may make per window (a minute).",
        "schema": _INTEGER,
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": _INTEGER,
    },
    "RateLimit-Reset": {
        "description": "Seconds until the current window ends and the count starts again.",
        "schema": _INTEGER,
    },
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before the next request.",
    "schema": _INTEGER,
}


def schema_headers_add(result, generator, request, public):
    """drf-spectacular's post-processing hook: document the headers of every API answer."""
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                if status not in ("401", "404") or "security" in operation:
                    for name, header in RESPONSE_HEADERS.items():
                        headers.setdefault(name, header)
                if status == "429":
                    headers.setdefault("Retry-After", RETRY_AFTER_HEADER)
    return result
