"""Wappin's callbacks skip the middlewares made for people in browsers."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

CALLBACK_PREFIX = "/callbacks/wappin/"


class CallbackFastPathMiddleware:
    """Right after SecurityMiddleware: a callback from Wappin goes straight to its view.

    A callback carries no session or CSRF cookie, logs nobody in and is checked by
    its own rules (allow-list, bearer token: `callback_receive`), so sessions, CSRF,
    authentication, messages, htmx and the login lock-out (axes) would only cost
    time, and a blast brings back up to three callbacks a message. The host is still
    checked against ALLOWED_HOSTS, and the request log still sees every answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(CALLBACK_PREFIX):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)  # Django's own answer (404, slash redirect)
        if match.view_name != "callbacks:wappin":
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) for a host this portal does not serve
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
