from django.urls import path

from messaging.sending import views

urlpatterns = [
    path("history/test-send/", views.test_send, name="test_send"),
]
