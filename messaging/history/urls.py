from django.urls import path

from messaging.history import views

urlpatterns = [
    path("history/", views.message_list, name="message_list"),
    path("history/export.csv", views.message_export, name="message_export"),
    path("history/<int:pk>/", views.message_detail, name="message_detail"),
    path("history/<int:pk>/refresh/", views.message_refresh, name="message_refresh"),
]
