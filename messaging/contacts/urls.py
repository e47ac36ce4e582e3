from django.urls import path

from messaging.contacts import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/import/", views.contact_import_view, name="contact_import"),
    path("contacts/export.csv", views.contact_export, name="contact_export"),
]
