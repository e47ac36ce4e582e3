from django.urls import path

from callbacks import views, views_chat

app_name = "callbacks"
urlpatterns = [
    path("wappin/<str:key>/", views.wappin_callback, name="wappin"),
    path("chat/", views_chat.chat_list, name="chat"),
    path("chat/<int:contact_id>/", views_chat.chat_conversation, name="chat_conversation"),
    path("chat/<int:contact_id>/hand-back/", views_chat.chat_hand_back_view, name="chat_hand_back"),
]
