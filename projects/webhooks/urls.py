from django.urls import path

from projects.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.webhook_endpoint_list, name="endpoint_list"),
    path("<int:pk>/", views.webhook_endpoint_detail, name="endpoint_detail"),
    path("<int:pk>/rotate-secret/", views.webhook_endpoint_rotate, name="endpoint_rotate"),
    path("<int:pk>/test/", views.webhook_endpoint_test, name="endpoint_test"),
    path("<int:pk>/delete/", views.webhook_endpoint_delete, name="endpoint_delete"),
    path(
        "<int:pk>/deliveries/<int:delivery_id>/resend/",
        views.webhook_delivery_resend,
        name="delivery_resend",
    ),
]
