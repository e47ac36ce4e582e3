from django.urls import path

from messaging.blasts import views

urlpatterns = [
    path("blasts/", views.blast_list, name="blast_list"),
    path("blasts/rows/", views.blast_list_rows, name="blast_list_rows"),
    path("blasts/new/", views.blast_create, name="blast_create"),
    path("blasts/preview/", views.blast_preview, name="blast_preview"),
    path("blasts/<int:pk>/", views.blast_detail, name="blast_detail"),
    path("blasts/<int:pk>/progress/", views.blast_progress, name="blast_progress"),
    path("blasts/<int:pk>/start/", views.blast_start, name="blast_start"),
    path("blasts/<int:pk>/edit/", views.blast_edit, name="blast_edit"),
    path("blasts/<int:pk>/pause/", views.blast_pause, name="blast_pause"),
    path("blasts/<int:pk>/resume/", views.blast_resume, name="blast_resume"),
    path("blasts/<int:pk>/cancel/", views.blast_cancel, name="blast_cancel"),
    path("blasts/<int:pk>/recipients.csv", views.blast_recipients_csv, name="blast_recipients_csv"),
]
