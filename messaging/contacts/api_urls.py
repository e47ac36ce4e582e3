from django.urls import path

from messaging.contacts import api, groups_api, import_api

urlpatterns = [
    path("contacts/", api.ContactListView.as_view(), name="api_contact_list"),
    path(
        "contacts/imports/",
        import_api.ContactImportListView.as_view(),
        name="api_contact_import_list",
    ),
    path(
        "contacts/imports/<int:import_id>/",
        import_api.ContactImportDetailView.as_view(),
        name="api_contact_import_detail",
    ),
    path("groups/", groups_api.GroupListView.as_view(), name="api_group_list"),
    path("groups/<int:group_id>/", groups_api.GroupDetailView.as_view(), name="api_group_detail"),
    path("contacts/<int:contact_id>/", api.ContactDetailView.as_view(), name="api_contact_detail"),
]
