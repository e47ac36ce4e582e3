"""Uploaded media under MEDIA_URL (`media`, no namespace: the root URLconf mounts it there)."""

from django.urls import path

from messaging.media import views

urlpatterns = [
    path("<path:path>", views.media_serve, name="media"),
]
