from django.urls import path

from projects.webhooks import api

urlpatterns = [
    path(
        "webhook-endpoints/",
        api.WebhookEndpointListView.as_view(),
        name="api_webhook_endpoint_list",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>/",
        api.WebhookEndpointDetailView.as_view(),
        name="api_webhook_endpoint_detail",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>/rotate-secret/",
        api.WebhookEndpointRotateView.as_view(),
        name="api_webhook_endpoint_rotate",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>/test/",
        api.WebhookEndpointTestView.as_view(),
        name="api_webhook_endpoint_test",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>/deliveries/",
        api.WebhookDeliveryListView.as_view(),
        name="api_webhook_delivery_list",
    ),
    path(
        "webhook-endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>/resend/",
        api.WebhookDeliveryResendView.as_view(),
        name="api_webhook_delivery_resend",
    ),
]
