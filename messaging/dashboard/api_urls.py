from django.urls import path

from messaging.dashboard import api

urlpatterns = [
    path("stats/", api.StatsView.as_view(), name="api_stats"),
]
