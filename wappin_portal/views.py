from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET

from wappin_portal.api import SERVER_ERROR_MESSAGE, api_error_response
from wappin_portal.error_catalogue import ERROR_CATALOGUE, error_type
from wappin_portal.health import readiness_failures

API_PREFIX = "/api/"


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """/favicon.ico, which browsers ask for where a page names no icon: the SVG one."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: database, broker and cache reachable, migrations applied.

    Unauthenticated and without detail an attacker could use: only the names of
    the components that failed, never a host or an error's text.
    """
    failed = readiness_failures()
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
def api_error_catalogue(request: HttpRequest) -> HttpResponse:
    """The page every error answer's `doc_url` points at: each code, its status and meaning."""
    codes = [
        {
            "code": code,
            "status": entry.status,
            "type": error_type(entry.status),
            "description": entry.description,
        }
        for code, entry in sorted(
            ERROR_CATALOGUE.items(), key=lambda item: (item[1].status, item[0])
        )
    ]
    return render(request, "api/error_catalogue.html", {"codes": codes})


# Django's error handlers (handler400/403/404/500 in the root URLconf): under /api/ an
# answer in the API's error shape, elsewhere the portal's own pages (400.html ...).


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_error_response(
            code="bad_request", message=_("The request is not valid."), status=400
        )
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_error_response(
            code="permission_denied", message=_("You may not do this."), status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_error_response(
            code="not_found",
            message=_("No API endpoint at %(path)s.") % {"path": request.path[:200]},
            status=404,
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return api_error_response(code="server_error", message=SERVER_ERROR_MESSAGE, status=500)
    return defaults.server_error(request)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, its link built on PORTAL_BASE_URL, never on the Host header."""

    def form_valid(self, form):
        self.extra_email_context = {"portal_base_url": settings.PORTAL_BASE_URL}
        return super().form_valid(form)
