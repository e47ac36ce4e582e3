"""The chat panel: marketing answers customers by hand, and hands them back to the chatbot."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from callbacks import selectors
from callbacks.services import chat_hand_back, chat_reply
from messaging.contacts.selectors import contact_get
from projects.ui import project_page
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error


class ReplyForm(forms.Form):
    text = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 3}), max_length=4096)


@project_page(capability="marketing_pages.use")
def chat_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    conversations = selectors.chat_conversation_list(project=project)
    return render(
        request, "callbacks/chat_list.html", {"project": project, "conversations": conversations}
    )


@project_page(capability="marketing_pages.use", post=("marketing_pages.use", "chat.reply"))
def chat_conversation(request: HttpRequest, contact_id: int) -> HttpResponse:
    project = request.project
    contact = contact_get(project=project, contact_id=contact_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            chat_reply(contact=contact, text=form.cleaned_data["text"], actor=request.user)
        except ApplicationError as exc:
            show_error(request, exc, form)
        else:
            messages.success(request, "Reply queued.")
            return redirect("callbacks:chat_conversation", contact_id=contact.pk)
    context = {
        "project": project,
        "contact": contact,
        "chat": selectors.chat_messages(contact=contact),
        "form": form,
        "window_open": contact.window_is_open(),
    }
    return render(request, "callbacks/chat_conversation.html", context)


@require_POST
@project_page(capability=("marketing_pages.use", "chat.reply"))
def chat_hand_back_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    project = request.project
    contact = chat_hand_back(
        contact=contact_get(project=project, contact_id=contact_id), actor=request.user
    )
    messages.success(request, f"{contact} is back with the chatbot.")
    return redirect("callbacks:chat_conversation", contact_id=contact.pk)
