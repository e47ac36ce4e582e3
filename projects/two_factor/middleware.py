"""Two-factor where it is due: a session that skipped the code is stopped here."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from projects.two_factor.selectors import two_factor_is_enrolled, two_factor_is_required

# Pages a user who owes a code (or an authenticator) may still reach.
OPEN_URL_NAMES = {
    "login",
    "login_code",
    "logout",
    "two_factor",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "readyz",
}


class TwoFactorMiddleware:
    """After django-otp's `OTPMiddleware`, for a logged-in session that gave no code:

    - the user has an authenticator (the session began before it was set up): logged out,
      to log in again with a code;
    - REQUIRE_2FA_FOR_ADMINS and the user is a project admin (or a superuser): sent to
      the set-up page until they have one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_URL_NAMES and not match.namespace:
            return None
        is_api = request.path.startswith("/api/")
        # Imported here: wappin_portal.api loads DRF's settings, which are not ready while
        # Django builds the middleware chain.
        from wappin_portal.api import api_error_response

        if two_factor_is_enrolled(user=user):
            logout(request)
            if is_api:
                return api_error_response(
                    code="two_factor_required", message=_("Log in again."), status=401
                )
            messages.info(request, _("Log in again with your authenticator's code."))
            return redirect("login")
        if two_factor_is_required(user=user):
            message = _("Project admins log in with a second step: set up an authenticator app.")
            if is_api:
                return api_error_response(code="two_factor_required", message=message, status=403)
            messages.warning(request, message)
            return redirect("two_factor")
        return None
