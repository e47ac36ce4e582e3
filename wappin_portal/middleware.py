"""Small response middlewares of the portal's own."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every answer: the portal uses no camera, microphone, location..."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RateLimitHeadersMiddleware:
    """`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` on every throttled API answer.

    The throttle (`projects.authentication.ApiKeyRateThrottle`) leaves its figures on the
    request as `rate_limit` (limit, remaining, reset_seconds); a 429 also has `Retry-After`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        state = getattr(request, "rate_limit", None)
        if state is not None:
            response.headers["RateLimit-Limit"] = str(state.limit)
            response.headers["RateLimit-Remaining"] = str(state.remaining)
            response.headers["RateLimit-Reset"] = str(state.reset_seconds)
        return response
