"""The chat panel: marketing answers customers by hand, and hands them back to the chatbot."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from callbacks import selectors
from callbacks.services import chat_hand_back
from messaging import services as messaging_services
from messaging.models import Contact, Message
from projects.models import Membership, Project
from projects.selectors import project_current, project_require_role
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error

CHAT_ROLES = (Membership.Role.ADMIN, Membership.Role.MARKETING)


class ReplyForm(forms.Form):
    text = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 3}), max_length=4096)


def _project(request: HttpRequest) -> Project:
    project = project_current(request=request)
    if project is None:
        raise Http404("You are not a member of any project.")
    try:
        project_require_role(user=request.user, project=project, roles=CHAT_ROLES)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    return project


def _contact(project: Project, contact_id: int) -> Contact:
    contact = Contact.objects.filter(project=project, pk=contact_id).first()
    if contact is None:
        raise Http404("No such conversation in this project.")
    return contact


@login_required
def chat_list(request: HttpRequest) -> HttpResponse:
    project = _project(request)
    conversations = selectors.chat_conversation_list(project=project)
    return render(request, "callbacks/chat_list.html", {"project": project, "conversations": conversations})


@login_required
def chat_conversation(request: HttpRequest, contact_id: int) -> HttpResponse:
    project = _project(request)
    contact = _contact(project, contact_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            messaging_services.message_send_text(
                project=project,
                phone_number=contact.phone_number,
                text=form.cleaned_data["text"],
                source=Message.Source.USER,
                sent_by=request.user,
            )
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


@login_required
@require_POST
def chat_hand_back_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    project = _project(request)
    contact = chat_hand_back(contact=_contact(project, contact_id))
    messages.success(request, f"{contact} is back with the chatbot.")
    return redirect("callbacks:chat_conversation", contact_id=contact.pk)
