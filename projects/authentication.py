"""`Authorization: Api-Key <key>` for the REST API, and a throttle per key."""

from __future__ import annotations

import math
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.throttling import SimpleRateThrottle

from projects.models import ApiKey, api_key_hash
from projects.throttle import throttle_hit

KEYWORD = "Api-Key"
# Writing last_used_at on every call would cost a write per request; once a minute is enough.
LAST_USED_RESOLUTION_SECONDS = 60


class RateLimitState(NamedTuple):
    limit: int
    remaining: int
    reset_seconds: int


class ApiKeyUser:
    """The request.user of an API-key request: authenticated, tied to one project."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    is_active = True

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.pk = None
        self.id = None
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _space, raw_key = header.partition(" ")
        if scheme.lower() != KEYWORD.lower():
            # `Bearer <key>` once answered "credentials were not provided": name the scheme.
            raise exceptions.AuthenticationFailed(
                _(
                    "Send the key as `Authorization: %(keyword)s <key>`; the %(scheme)r scheme is not accepted."
                )
                % {"keyword": KEYWORD, "scheme": scheme[:20]},
                code="authorization_scheme_invalid",
            )
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header says %(keyword)s but has no key.")
                % {"keyword": KEYWORD}
            )
        api_key = (
            ApiKey.objects.select_related("project")
            .filter(hashed_key=api_key_hash(raw_key))
            .first()
        )
        if api_key is None:
            raise exceptions.AuthenticationFailed("This API key is not valid.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        now = timezone.now()
        if (
            api_key.last_used_at is None
            or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (session users per user), counted in fixed windows.

    One atomic step per request (`projects.throttle.throttle_hit`) in the store every web
    process shares; a burst at a window's edge may reach twice the rate, which is fine for
    protecting the portal. The figures ride on the request for the `RateLimit-*` headers
    (`wappin_portal.middleware.RateLimitHeadersMiddleware`).
    """

    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window_start = int(self.now // self.duration) * self.duration
        self.window_end = window_start + self.duration
        count = throttle_hit(
            key=self.key, window_start=window_start, window_seconds=int(self.duration)
        )
        # Django's request (DRF's wraps it): what the middleware sees when the answer is ready.
        request._request.rate_limit = RateLimitState(
            limit=self.num_requests,
            remaining=max(0, self.num_requests - count),
            reset_seconds=max(1, math.ceil(self.window_end - self.now)),
        )
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self.window_end - self.now)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "projects.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: create a key in the portal's admin; it is shown once.",
        }
