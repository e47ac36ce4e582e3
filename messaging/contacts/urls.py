from django.urls import path

from messaging.contacts import import_views, views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/opt-out/", views.contact_opt_out, name="contact_opt_out"),
    path("contacts/<int:pk>/delete/", views.contact_delete_view, name="contact_delete"),
    path("contacts/bulk/", views.contact_bulk, name="contact_bulk"),
    path("contacts/groups/", views.group_list_view, name="contact_group_list"),
    path("contacts/groups/new/", views.group_create_view, name="contact_group_create"),
    path("contacts/groups/<int:pk>/rename/", views.group_rename_view, name="contact_group_rename"),
    path("contacts/groups/<int:pk>/delete/", views.group_delete_view, name="contact_group_delete"),
    path("contacts/import/", views.contact_import_view, name="contact_import"),
    path(
        "contacts/imports/<int:pk>/",
        import_views.contact_import_detail,
        name="contact_import_detail",
    ),
    path(
        "contacts/imports/<int:pk>/progress/",
        import_views.contact_import_progress,
        name="contact_import_progress",
    ),
    path(
        "contacts/imports/<int:pk>/refusals.csv",
        import_views.contact_import_refusals_csv,
        name="contact_import_refusals",
    ),
    path("contacts/export.csv", views.contact_export, name="contact_export"),
]
