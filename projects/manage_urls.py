"""The project admin's pages (`project_admin:`): members, integrations, audit log."""

from django.urls import path

from projects import manage_views

app_name = "project_admin"
urlpatterns = [
    path("members/", manage_views.member_list, name="members"),
    path("members/<int:pk>/role/", manage_views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", manage_views.member_remove, name="member_remove"),
    path("integrations/", manage_views.integration_list, name="integrations"),
    path("integrations/<int:pk>/", manage_views.integration_edit, name="integration_edit"),
    path("audit/", manage_views.audit_list, name="audit"),
    path("audit/export.csv", manage_views.audit_export, name="audit_export"),
]
