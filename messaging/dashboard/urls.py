from django.urls import path

from messaging.dashboard import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/today/", views.dashboard_today, name="dashboard_today"),
]
