import mimetypes
import os

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from rest_framework.exceptions import AuthenticationFailed

from projects.authentication import ApiKeyAuthentication
from projects.selectors import SESSION_PROJECT_KEY, project_list_for_user
from wappin_portal.api import SERVER_ERROR_MESSAGE, api_error_response
from wappin_portal.health import readiness_failures

API_PREFIX = "/api/"


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


@login_required
@require_POST
def project_switch(request: HttpRequest) -> HttpResponseRedirect:
    project = project_list_for_user(user=request.user).filter(pk=request.POST.get("project")).first()
    if project is not None:
        request.session[SESSION_PROJECT_KEY] = project.pk
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


def _media_owner_project_id(path: str) -> int | None:
    """The project of the row that stores this upload, or None when no row names it."""
    from messaging.models import Blast, Message
    from templates_app.models import ChatbotKeyword

    for model, field in ((Message, "media"), (Blast, "media"), (ChatbotKeyword, "response_media")):
        project_id = model.objects.filter(**{field: path}).values_list("project_id", flat=True).first()
        if project_id is not None:
            return project_id
    return None


def _media_reader_project_ids(request: HttpRequest):
    """The projects whose media this request may read: an API key's own project, or the user's."""
    try:
        authenticated = ApiKeyAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    if authenticated is not None:
        return [authenticated[1].project_id]
    if request.user.is_authenticated:
        return project_list_for_user(user=request.user).values_list("pk", flat=True)
    return None


@require_GET
def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded media, to members of the file's project only (MEDIA_ROOT is never public).

    A logged-in member or the project's API key (`Authorization: Api-Key`, for
    developers following a keyword's `response_media` URL). Only a path some row
    stores is served, so nothing else under MEDIA_ROOT (nor outside it) is
    reachable; another project's file is a 404, like its rows.
    """
    readable = _media_reader_project_ids(request)
    if readable is None:
        return redirect_to_login(request.get_full_path())
    project_id = _media_owner_project_id(path)
    if project_id is None or project_id not in list(readable):
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    signed_url = getattr(default_storage, "signed_url", None)
    if signed_url is not None:  # a private bucket (wappin_portal.storage)
        if not default_storage.exists(path):
            raise Http404("No such file.")
        if settings.MEDIA_S3_REDIRECT:
            response = HttpResponseRedirect(
                signed_url(path, filename=os.path.basename(path), content_type=content_type)
            )
            response["Cache-Control"] = "private, no-store"  # the signed URL expires soon
            return response
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("No such file.") from exc
    # A download, never a page of ours: an upload is not trusted to be what its name says.
    return FileResponse(
        handle, as_attachment=True, filename=os.path.basename(path), content_type=content_type
    )


# Django's error handlers (handler400/403/404/500 in the root URLconf): under /api/ an
# answer in the API's error shape, elsewhere the portal's own pages (400.html ...).


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_error_response(code="bad_request", message="The request is not valid.", status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_error_response(
            code="permission_denied", message="You may not do this.", status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_error_response(
            code="not_found", message=f"No API endpoint at {request.path[:200]}.", status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return api_error_response(code="server_error", message=SERVER_ERROR_MESSAGE, status=500)
    return defaults.server_error(request)
