from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from wappin_portal import metrics, views
from wappin_portal.api import api_not_found

api_v1 = [
    path("", include("templates_app.api_urls")),
    path("", include("messaging.api_urls")),
    path("", include("projects.webhooks.api_urls")),
    # Last: an unmatched API URL answers JSON in the error shape (bad ids, typos, no slash).
    re_path(r"", api_not_found),  # a prefix match: every rest, newlines too
]

# Under /api/ JSON in the API's error shape, elsewhere the portal's pages.
handler400 = "wappin_portal.views.bad_request"
handler403 = "wappin_portal.views.permission_denied"
handler404 = "wappin_portal.views.page_not_found"
handler500 = "wappin_portal.views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="messaging:dashboard", permanent=False)),
    # Browsers ask for /favicon.ico where a page names no icon (a JSON answer, a PDF).
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Log-in with its two-factor step, and each user's two-factor page.
    path("accounts/", include("projects.two_factor.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Password reset by e-mail: the same answer whether or not the address has an account.
    path(
        "accounts/password/reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("projects/", include("projects.switch_urls")),
    # The header's language switch (Django's set_language: POST, remembered in a cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api-keys/", include("projects.urls")),
    path("webhooks/", include("projects.webhooks.urls")),
    path("project/", include("projects.manage_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("api/docs/errors/", views.api_error_catalogue, name="api_error_catalogue"),
    # Any other URL under /api/ (/api/ itself, /api/v2/...): a JSON 404, in DEBUG too.
    re_path(r"^api/", api_not_found),
    path("callbacks/", include("callbacks.urls")),
    path("templates/", include("templates_app.urls")),
    # Uploaded media, through a view that checks the file's project, in every environment.
    path(f"{settings.MEDIA_URL.strip('/')}/", include("messaging.media.urls")),
    path("", include("messaging.urls")),
]
