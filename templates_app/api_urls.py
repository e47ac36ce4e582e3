from django.urls import path

from templates_app import api

urlpatterns = [
    path("templates/", api.TemplateListApi.as_view(), name="api_template_list"),
    path("templates/<int:pk>/", api.TemplateDetailApi.as_view(), name="api_template_detail"),
    path(
        "templates/<int:pk>/request-approval/",
        api.TemplateRequestApprovalApi.as_view(),
        name="api_template_request_approval",
    ),
    path(
        "templates/<int:pk>/deactivate/",
        api.TemplateDeactivateApi.as_view(),
        name="api_template_deactivate",
    ),
    path(
        "templates/<int:pk>/reactivate/",
        api.TemplateReactivateApi.as_view(),
        name="api_template_reactivate",
    ),
    path(
        "templates/<int:pk>/preview/", api.TemplatePreviewApi.as_view(), name="api_template_preview"
    ),
    path("chatbot-keywords/", api.ChatbotKeywordListApi.as_view(), name="api_keyword_list"),
    path(
        "chatbot-keywords/<int:pk>/",
        api.ChatbotKeywordDetailApi.as_view(),
        name="api_keyword_detail",
    ),
]
