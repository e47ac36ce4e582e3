from django.urls import path

from messaging.sending import api

urlpatterns = [
    path("messages/hsm/", api.HsmSendView.as_view(), name="api_message_send_hsm"),
    path("messages/hsm-media/", api.HsmMediaSendView.as_view(), name="api_message_send_hsm_media"),
    path("messages/text/", api.TextSendView.as_view(), name="api_message_send_text"),
    path("messages/media/", api.MediaSendView.as_view(), name="api_message_send_media"),
]
