from django.urls import path

from templates_app import views

app_name = "templates_app"
urlpatterns = [
    path("", views.template_list, name="template_list"),
    path("new/", views.template_create, name="template_create"),
    path("<int:pk>/", views.template_detail, name="template_detail"),
    path("<int:pk>/status/", views.template_status, name="template_status"),
    path("<int:pk>/edit/", views.template_edit, name="template_edit"),
    path(
        "<int:pk>/request-approval/",
        views.template_request_approval,
        name="template_request_approval",
    ),
    path("<int:pk>/approve/", views.template_approve, name="template_approve"),
    path("<int:pk>/reject/", views.template_reject, name="template_reject"),
    path("<int:pk>/deactivate/", views.template_deactivate, name="template_deactivate"),
    path("<int:pk>/reactivate/", views.template_reactivate, name="template_reactivate"),
    path("<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("keywords/", views.keyword_list, name="keyword_list"),
    path("keywords/new/", views.keyword_create, name="keyword_create"),
    path("keywords/<int:pk>/edit/", views.keyword_edit, name="keyword_edit"),
    path("keywords/<int:pk>/delete/", views.keyword_delete, name="keyword_delete"),
    path("chatbot-settings/", views.chatbot_settings, name="chatbot_settings"),
]
