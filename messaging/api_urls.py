from django.urls import path

from messaging import api

urlpatterns = [
    path("messages/", api.MessageListView.as_view(), name="api_message_list"),
    path("messages/hsm/", api.HsmSendView.as_view(), name="api_message_send_hsm"),
    path("messages/hsm-media/", api.HsmMediaSendView.as_view(), name="api_message_send_hsm_media"),
    path("messages/text/", api.TextSendView.as_view(), name="api_message_send_text"),
    path("messages/media/", api.MediaSendView.as_view(), name="api_message_send_media"),
    path("messages/<int:message_id>/", api.MessageDetailView.as_view(), name="api_message_detail"),
    path(
        "messages/<int:message_id>/refresh-status/",
        api.MessageRefreshStatusView.as_view(),
        name="api_message_refresh_status",
    ),
    path("contacts/", api.ContactListView.as_view(), name="api_contact_list"),
    path("contacts/<int:contact_id>/", api.ContactDetailView.as_view(), name="api_contact_detail"),
]
