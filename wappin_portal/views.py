import mimetypes
import os

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from projects.selectors import SESSION_PROJECT_KEY, project_list_for_user


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
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


@login_required
@require_GET
def media_serve(request: HttpRequest, path: str) -> FileResponse:
    """Uploaded media, to members of the file's project only (MEDIA_ROOT is never public).

    Only a path some row stores is served, so nothing else under MEDIA_ROOT (nor
    outside it) is reachable; another project's file is a 404, like its rows.
    """
    project_id = _media_owner_project_id(path)
    if project_id is None or not project_list_for_user(user=request.user).filter(pk=project_id).exists():
        raise Http404("No such file.")
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("No such file.") from exc
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    # A download, never a page of ours: an upload is not trusted to be what its name says.
    return FileResponse(
        handle, as_attachment=True, filename=os.path.basename(path), content_type=content_type
    )
