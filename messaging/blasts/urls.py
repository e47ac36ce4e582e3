from django.urls import path

from messaging.blasts import views

urlpatterns = [
    path("blasts/", views.blast_list, name="blast_list"),
    path("blasts/new/", views.blast_create, name="blast_create"),
    path("blasts/preview/", views.blast_preview, name="blast_preview"),
    path("blasts/<int:pk>/", views.blast_detail, name="blast_detail"),
    path("blasts/<int:pk>/start/", views.blast_start, name="blast_start"),
    path("blasts/<int:pk>/cancel/", views.blast_cancel, name="blast_cancel"),
]
