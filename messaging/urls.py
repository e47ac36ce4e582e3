"""The messaging web pages, one URLconf per package, all in the `messaging:` namespace."""

from django.urls import include, path

app_name = "messaging"
urlpatterns = [
    path("", include("messaging.dashboard.urls")),
    path("", include("messaging.contacts.urls")),
    path("", include("messaging.history.urls")),
    path("", include("messaging.sending.urls")),
    path("", include("messaging.blasts.urls")),
]
