from django.urls import path

from messaging import api
from messaging.contacts import groups_api, import_api

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
    path("contacts/imports/", import_api.ContactImportListView.as_view(), name="api_contact_import_list"),
    path(
        "contacts/imports/<int:import_id>/",
        import_api.ContactImportDetailView.as_view(),
        name="api_contact_import_detail",
    ),
    path("groups/", groups_api.GroupListView.as_view(), name="api_group_list"),
    path("groups/<int:group_id>/", groups_api.GroupDetailView.as_view(), name="api_group_detail"),
    path("contacts/<int:contact_id>/", api.ContactDetailView.as_view(), name="api_contact_detail"),
]
