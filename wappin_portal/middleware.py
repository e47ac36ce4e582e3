"""Small response middlewares of the portal's own."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers

# The header a page's live part sends with each poll (`hx-headers` on the polled element).
LIVE_POLL_HEADER = "X-Live-Poll"


class PermissionsPolicyMiddleware:
    """`Permissions-Policy` on every answer: the portal uses no camera, microphone, location..."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class LivePollSessionMiddleware(SessionMiddleware):
    """Django's session middleware, except for the live parts' polls (htmx, `X-Live-Poll`).

    A poll is not activity: it does not save the session (SESSION_SAVE_EVERY_REQUEST would
    push the idle timeout back for as long as a page stays open). And a poll whose session has
    ended gets `HX-Redirect` to the login page instead of a redirect htmx would follow and swap
    into the page's fragment."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.headers.get(LIVE_POLL_HEADER):
            return super().process_response(request, response)
        login = resolve_url(settings.LOGIN_URL)
        if response.status_code == 302 and response.get("Location", "").startswith(login):
            location = response["Location"]
            response = HttpResponse(status=204)
            response["HX-Redirect"] = location
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return super().process_response(request, response)
        patch_vary_headers(response, ("Cookie",))
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
