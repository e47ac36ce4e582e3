from django.urls import path

from callbacks import views, views_chat

app_name = "callbacks"
urlpatterns = [
    path("wappin/<str:key>/", views.wappin_callback, name="wappin"),
    path("chat/", views_chat.chat_list, name="chat"),
    path("chat/<int:contact_id>/", views_chat.chat_conversation, name="chat_conversation"),
    path("chat/conversations/", views_chat.chat_conversations, name="chat_conversations"),
    path("chat/<int:contact_id>/thread/", views_chat.chat_thread, name="chat_thread"),
    path(
        "chat/<int:contact_id>/template-preview/",
        views_chat.chat_template_preview,
        name="chat_template_preview",
    ),
    path("chat/<int:contact_id>/assign/", views_chat.chat_assign, name="chat_assign"),
    path("chat/<int:contact_id>/hand-back/", views_chat.chat_hand_back_view, name="chat_hand_back"),
]
