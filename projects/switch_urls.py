"""Pages under /projects/ (no namespace): the switcher in every page's header, the project's settings."""

from django.urls import path

from projects import views

urlpatterns = [
    path("switch/", views.project_switch, name="project_switch"),
    path("settings/", views.project_settings, name="project_settings"),
]
