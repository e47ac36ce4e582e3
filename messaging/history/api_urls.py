from django.urls import path

from messaging.history import api

urlpatterns = [
    path("messages/", api.MessageListView.as_view(), name="api_message_list"),
    path("messages/<int:message_id>/", api.MessageDetailView.as_view(), name="api_message_detail"),
    path(
        "messages/<int:message_id>/refresh-status/",
        api.MessageRefreshStatusView.as_view(),
        name="api_message_refresh_status",
    ),
]
