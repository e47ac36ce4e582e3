from django.urls import path

from callbacks import views

app_name = "callbacks"
urlpatterns = [
    path("wappin/<str:key>/", views.wappin_callback, name="wappin"),
]
