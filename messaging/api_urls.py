"""The messaging REST API, one URLconf per package."""

from django.urls import include, path

urlpatterns = [
    path("", include("messaging.sending.api_urls")),
    path("", include("messaging.history.api_urls")),
    path("", include("messaging.contacts.api_urls")),
    path("", include("messaging.blasts.api_urls")),
    path("", include("messaging.dashboard.api_urls")),
    path("", include("messaging.media.api_urls")),
]
