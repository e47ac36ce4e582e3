from django.urls import path

from messaging.contacts import api

urlpatterns = [
    path("contacts/", api.ContactListView.as_view(), name="api_contact_list"),
    path("contacts/<int:contact_id>/", api.ContactDetailView.as_view(), name="api_contact_detail"),
]
