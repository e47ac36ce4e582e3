from django.urls import path

from projects import views

app_name = "projects"
urlpatterns = [
    path("", views.api_key_list, name="api_keys"),
    path("<int:pk>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
]
