"""Log-in with a second step, and each user's own two-factor page (set up, backup codes, off)."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

import django_otp
from axes.handlers.proxy import AxesProxyHandler

from projects.two_factor import selectors, services
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error

# Between the password and the code: who passed the password, how, when, and where to go next.
PENDING_KEY = "two_factor_pending"
# The code must follow the password within this long.
PENDING_SECONDS = 5 * 60


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        help_text=gettext_lazy(
            "The 6-digit code your authenticator app shows, or one of your backup codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class DisableForm(CodeForm):
    field_order = ["password", "token"]
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class LoginView(auth_views.LoginView):
    """Django's log-in; a user with an authenticator is asked its code before being logged in."""

    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        if not selectors.two_factor_is_enrolled(user=user):
            return super().form_valid(form)
        # Not logged in yet: the session only remembers that the password was right.
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login_code")


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    return user, pending


@sensitive_post_parameters("token")
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the authenticator's code (or a backup code) after a right password.

    A wrong code counts as a failed log-in for django-axes, and a locked-out account
    gets no further: guessing codes is stopped like guessing passwords.
    """
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Log in again: the code must follow the password within minutes."))
        return redirect("login")
    credentials = {get_user_model().USERNAME_FIELD: user.get_username()}
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if settings.AXES_ENABLED and AxesProxyHandler.is_locked(request, credentials):
            # django-axes' middleware turns this answer into its lock-out page.
            request.axes_locked_out = True
            request.axes_credentials = credentials
            request.session.pop(PENDING_KEY, None)
        else:
            device = services.two_factor_verify(user=user, token=form.cleaned_data["token"])
            if device is not None:
                request.session.pop(PENDING_KEY, None)
                user.backend = pending["backend"]
                auth_login(request, user)
                django_otp.login(request, device)
                target = pending.get("next") or settings.LOGIN_REDIRECT_URL
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    target = settings.LOGIN_REDIRECT_URL
                return redirect(target)
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            form.add_error("token", services.CODE_INVALID)
    return render(request, "two_factor/login_code.html", {"form": form})


def _backup_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    response = render(request, "two_factor/backup_codes.html", {"codes": codes})
    response["Cache-Control"] = "no-store"  # the codes are on this answer only
    return response


@sensitive_post_parameters("token")
@login_required
def two_factor_page(request: HttpRequest) -> HttpResponse:
    """Set-up (scan, confirm a code) for a user without an authenticator, else its state."""
    user = request.user
    if selectors.two_factor_is_enrolled(user=user):
        return render(
            request,
            "two_factor/status.html",
            {
                "backup_codes_left": selectors.two_factor_backup_codes_left(user=user),
                "required": selectors.two_factor_is_required(user=user),
                "disable_form": DisableForm(),
                "codes_form": CodeForm(),
            },
        )
    device = services.two_factor_setup_start(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_setup_confirm(
                user=user, token=form.cleaned_data["token"]
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            django_otp.login(request, device)  # this session gave a right code
            messages.success(request, _("Two-factor log-in is on."))
            return _backup_codes_page(request, codes)
    response = render(
        request,
        "two_factor/setup.html",
        {
            "form": form,
            "qr_code": selectors.two_factor_qr_data_uri(device=device),
            "key_text": selectors.two_factor_key_text(device=device),
            "required": selectors.two_factor_is_required(user=user),
        },
    )
    response["Cache-Control"] = "no-store"  # the secret is on this page
    return response


@sensitive_post_parameters("token")
@require_POST
@login_required
def backup_codes_replace(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid() and services.two_factor_verify(
        user=request.user, token=form.cleaned_data["token"]
    ):
        return _backup_codes_page(
            request, services.two_factor_backup_codes_replace(user=request.user)
        )
    messages.error(request, services.CODE_INVALID)
    return redirect("two_factor")


@sensitive_post_parameters("password", "token")
@require_POST
@login_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = DisableForm(request.POST)
    if form.is_valid():
        try:
            services.two_factor_disable(
                user=request.user,
                password=form.cleaned_data["password"],
                token=form.cleaned_data["token"],
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("Two-factor log-in is off."))
            return redirect("two_factor")
    return render(
        request,
        "two_factor/status.html",
        {
            "backup_codes_left": selectors.two_factor_backup_codes_left(user=request.user),
            "required": selectors.two_factor_is_required(user=request.user),
            "disable_form": form,
            "codes_form": CodeForm(),
        },
        status=400,
    )
