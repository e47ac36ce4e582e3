"""Under /api/ every error answers JSON in the API's shape, 500 included; pages keep the portal's HTML."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

import pytest
from rest_framework.response import Response
from rest_framework.views import APIView

from wappin_portal import urls as root_urls

SECRET_DETAIL = "database password is hunter2"


class _BrokenApi(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError(SECRET_DETAIL)


class _BrokenRenderApi(APIView):
    """An error after DRF's handler: the data cannot be rendered, so Django's handler500 answers."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return Response({"not json": object()})


def _plain_view_raising(exception: Exception):
    def view(request):
        raise exception

    return view


# This module is the URLconf of its tests: the portal's, with views that fail, and its handlers.
urlpatterns = [
    path("api/v1/broken/", _BrokenApi.as_view()),
    path("api/v1/broken-render/", _BrokenRenderApi.as_view()),
    path("api/plain-broken/", _plain_view_raising(RuntimeError(SECRET_DETAIL))),
    path("api/plain-denied/", _plain_view_raising(PermissionDenied())),
    path("api/plain-suspicious/", _plain_view_raising(SuspiciousOperation(SECRET_DETAIL))),
    path("plain-broken/", _plain_view_raising(RuntimeError(SECRET_DETAIL))),
    *root_urls.urlpatterns,
]
handler400 = root_urls.handler400
handler403 = root_urls.handler403
handler404 = root_urls.handler404
handler500 = root_urls.handler500

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def quiet_client(client):
    """The test client as a browser sees the site: an unhandled error is an answer, not a raise."""
    client.raise_request_exception = False
    return client


def _assert_error_shape(response, *, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert SECRET_DETAIL not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    return body


def test_an_unexpected_error_in_an_api_view_is_a_json_500_and_logged(quiet_client, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = quiet_client.get("/api/v1/broken/")

    _assert_error_shape(response, status=500, code="server_error")
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert len(logged) == 1, "logged once, with its traceback"
    assert logged[0].exc_info and SECRET_DETAIL in str(logged[0].exc_info[1])


def test_an_api_error_django_handles_itself_is_json_too(quiet_client):
    _assert_error_shape(quiet_client.get("/api/v1/broken-render/"), status=500, code="server_error")
    _assert_error_shape(quiet_client.get("/api/plain-broken/"), status=500, code="server_error")
    _assert_error_shape(
        quiet_client.get("/api/plain-denied/"), status=403, code="permission_denied"
    )
    _assert_error_shape(quiet_client.get("/api/plain-suspicious/"), status=400, code="bad_request")


def test_a_path_under_api_that_no_url_matches_is_a_json_404(quiet_client):
    body = _assert_error_shape(quiet_client.get("/api/v2/anything"), status=404, code="not_found")
    assert "/api/v2/anything" in body["error"]["message"]


def test_pages_outside_the_api_keep_the_portals_html_error_pages(quiet_client):
    broken = quiet_client.get("/plain-broken/")
    missing = quiet_client.get("/no-such-page/")

    assert broken.status_code == 500
    assert broken["Content-Type"].startswith("text/html")
    assert SECRET_DETAIL not in broken.content.decode()
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("text/html")
