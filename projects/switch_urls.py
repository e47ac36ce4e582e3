"""The project switcher in every page's header (a URL of its own: `project_switch`, no namespace)."""

from django.urls import path

from projects import views

urlpatterns = [
    path("switch/", views.project_switch, name="project_switch"),
]
