from django.urls import path

from messaging.blasts import api

urlpatterns = [
    path("blasts/", api.BlastListView.as_view(), name="api_blast_list"),
    path("blasts/<int:blast_id>/", api.BlastDetailView.as_view(), name="api_blast_detail"),
    path(
        "blasts/<int:blast_id>/recipients/",
        api.BlastRecipientsView.as_view(),
        name="api_blast_recipients",
    ),
    path("blasts/<int:blast_id>/start/", api.BlastStartView.as_view(), name="api_blast_start"),
    path("blasts/<int:blast_id>/pause/", api.BlastPauseView.as_view(), name="api_blast_pause"),
    path("blasts/<int:blast_id>/resume/", api.BlastResumeView.as_view(), name="api_blast_resume"),
    path("blasts/<int:blast_id>/cancel/", api.BlastCancelView.as_view(), name="api_blast_cancel"),
]
