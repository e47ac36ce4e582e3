from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]
