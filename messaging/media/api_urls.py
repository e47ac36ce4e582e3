from django.urls import path

from messaging.media import api

urlpatterns = [
    path(
        "messages/<int:message_id>/media/",
        api.MessageMediaView.as_view(),
        name="api_message_media",
    ),
]
