"""Uploaded media, served through a view that checks the file's project, in every environment."""

from __future__ import annotations

import mimetypes
import os

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from rest_framework.exceptions import AuthenticationFailed

from messaging.media.selectors import media_owner_project_id
from projects.authentication import ApiKeyAuthentication
from projects.selectors import project_list_for_user


def _reader_project_ids(request: HttpRequest):
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
    readable = _reader_project_ids(request)
    if readable is None:
        return redirect_to_login(request.get_full_path())
    project_id = media_owner_project_id(path)
    if project_id is None or project_id not in list(readable):
        raise Http404("No such file.")
    return media_file_response(path=path)


def media_file_response(*, path: str) -> HttpResponse:
    """The stored file at `path` as a download (or a redirect to its signed URL); Http404 if gone.

    The caller has checked that the reader may see it (media_serve, the API's message media).
    """
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
