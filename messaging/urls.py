from django.urls import path

from messaging import views, views_blasts, views_ui
from messaging.contacts import import_views

app_name = "messaging"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]

# The marketing web UI: contacts, history, test send (views_ui.py).
urlpatterns += [
    path("contacts/", views_ui.contact_list, name="contact_list"),
    path("contacts/new/", views_ui.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views_ui.contact_edit, name="contact_edit"),
    path("contacts/import/", views_ui.contact_import_view, name="contact_import"),
    path("contacts/imports/<int:pk>/", import_views.contact_import_detail, name="contact_import_detail"),
    path("contacts/imports/<int:pk>/progress/", import_views.contact_import_progress, name="contact_import_progress"),
    path(
        "contacts/imports/<int:pk>/refusals.csv",
        import_views.contact_import_refusals_csv,
        name="contact_import_refusals",
    ),
    path("contacts/export.csv", views_ui.contact_export, name="contact_export"),
    path("history/", views_ui.message_list, name="message_list"),
    path("history/export.csv", views_ui.message_export, name="message_export"),
    path("history/test-send/", views_ui.test_send, name="test_send"),
    path("history/<int:pk>/", views_ui.message_detail, name="message_detail"),
    path("history/<int:pk>/refresh/", views_ui.message_refresh, name="message_refresh"),
]

# Blasts (views_blasts.py): one template to a group of contacts.
urlpatterns += [
    path("blasts/", views_blasts.blast_list, name="blast_list"),
    path("blasts/new/", views_blasts.blast_create, name="blast_create"),
    path("blasts/preview/", views_blasts.blast_preview, name="blast_preview"),
    path("blasts/<int:pk>/", views_blasts.blast_detail, name="blast_detail"),
    path("blasts/<int:pk>/start/", views_blasts.blast_start, name="blast_start"),
    path("blasts/<int:pk>/cancel/", views_blasts.blast_cancel, name="blast_cancel"),
]
