"""The chat panel: marketing answers customers by hand, and hands them back to the chatbot.

The conversation list and the open thread are live parts (htmx polls their fragments); a
thread's poll answers 204 while nothing it shows has changed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from callbacks import selectors, services
from callbacks.forms import AssignForm, ChatTemplateForm, ReplyForm
from messaging.models import Contact, Message
from messaging.sending import services as messaging_services
from messaging.sending.forms import TemplatePickForm
from projects.ui import project_page
from templates_app.selectors import template_preview
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error

# How often an open page asks again: the thread (a customer's message shows within this),
# and the conversation list.
THREAD_POLL_SECONDS = 2
LIST_POLL_SECONDS = 5


def _view(request: HttpRequest) -> str:
    view = request.GET.get("view", "")
    return view if view in selectors.ChatView.values else selectors.ChatView.ALL


def _list_context(request: HttpRequest, current: Contact | None = None) -> dict:
    view = _view(request)
    return {
        "conversations": selectors.chat_conversation_list(
            project=request.project, user=request.user, view=view
        ),
        "view": view,
        "views": selectors.ChatView.choices,
        "current": current,
        "list_poll_seconds": LIST_POLL_SECONDS,
        "list_version": selectors.chat_list_version(project=request.project, user=request.user),
    }


@require_GET
@project_page(capability="marketing_pages.use")
def chat_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "callbacks/chat_list.html", {"project": request.project, **_list_context(request)}
    )


@require_GET
@project_page(capability="marketing_pages.use")
def chat_conversations(request: HttpRequest) -> HttpResponse:
    """The conversation list's live fragment (`current`: the open conversation, highlighted);
    204 (htmx keeps the list) while `v` is still current."""
    shown = request.GET.get("v", "")
    if shown and shown == selectors.chat_list_version(project=request.project, user=request.user):
        return HttpResponse(status=204)
    current = None
    current_id = request.GET.get("current", "")
    if current_id.isdigit():
        current = Contact(pk=int(current_id))
    return render(
        request, "callbacks/_chat_conversations.html", _list_context(request, current=current)
    )


def _thread_context(contact: Contact, user) -> dict:
    """The thread as the open page shows it; reading it moves the member's read marker."""
    window = selectors.chat_window(contact=contact)
    chat = selectors.chat_messages(contact=contact)
    if chat:
        services.chat_mark_read(contact=contact, user=user, up_to_message_id=chat[-1].pk)
    return {
        "contact": contact,
        "chat": chat,
        "window": window,
        "version": selectors.chat_thread_version(contact=contact, window=window),
        "thread_poll_seconds": THREAD_POLL_SECONDS,
    }


def _composer_context(request: HttpRequest, contact: Contact, data=None, files=None) -> dict:
    """The reply box while the window is open, else the template picker with its fields."""
    posted = data is not None
    action = (data or {}).get("action") or "reply"
    pick = TemplatePickForm(data if posted else request.GET, project=request.project)
    language = pick.language_chosen()
    template_form = preview = None
    if language is not None:
        bound = posted and action == "template"
        template_form = ChatTemplateForm(
            data if bound else None, files if bound else None, language=language, contact=contact
        )
        preview = template_preview(language=language)
    return {
        "reply_form": ReplyForm(data if posted and action == "reply" else None),
        "pick": pick,
        "template": pick.template_chosen(),
        "language": language,
        "template_form": template_form,
        "template_preview": preview,
    }


def _send(request: HttpRequest, contact: Contact, composer: dict) -> Message | None:
    """Send what the composer holds (a reply or a template); None with errors on its form."""
    action = request.POST.get("action") or "reply"
    form = composer["template_form"] if action == "template" else composer["reply_form"]
    if form is None or not form.is_valid():
        if form is None:
            messages.error(request, _("Choose an approved template first."))
        return None
    try:
        if action == "template":
            return messaging_services.message_send_hsm(
                project=request.project,
                source=Message.Source.USER,
                sent_by=request.user,
                **form.send_arguments(),
            )
        return services.chat_reply(
            contact=contact, text=form.cleaned_data["text"], actor=request.user
        )
    except ApplicationError as error:
        # A refused reply whose window closed meanwhile: its box is gone, so the reason is flashed.
        shown = action == "template" or contact.window_is_open()
        show_error(request, error, form if shown else None)
        return None


@require_http_methods(["GET", "POST"])
@project_page(capability="marketing_pages.use", post=("marketing_pages.use", "chat.reply"))
def chat_conversation(request: HttpRequest, contact_id: int) -> HttpResponse:
    project = request.project
    contact = selectors.chat_contact_get(project=project, contact_id=contact_id)
    posted = request.method == "POST"
    composer = _composer_context(
        request, contact, request.POST if posted else None, request.FILES if posted else None
    )
    if posted and _send(request, contact, composer) is not None:
        messages.success(request, _("Reply queued."))
        return redirect("callbacks:chat_conversation", contact_id=contact.pk)
    members = selectors.chat_assignee_choices(project=project)
    conversation = getattr(contact, "chat_conversation", None)
    context = {
        "project": project,
        # The thread first: reading it moves the read marker the list counts from.
        **_thread_context(contact, request.user),
        **_list_context(request, current=contact),
        **composer,
        "assign_form": AssignForm(
            initial={"assignee": conversation.assigned_to_id if conversation else None},
            members=members,
        ),
    }
    return render(request, "callbacks/chat_conversation.html", context)


@require_GET
@project_page(capability="marketing_pages.use")
def chat_thread(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The open thread's live fragment; 204 (htmx keeps the page) while `v` is still current.

    When the 24-hour window opened or closed since the page was drawn, the composer comes
    along out of band (a reply box, or the template picker)."""
    contact = selectors.chat_contact_get(project=request.project, contact_id=contact_id)
    window = selectors.chat_window(contact=contact)
    shown = request.GET.get("v", "")
    if shown and shown == selectors.chat_thread_version(contact=contact, window=window):
        return HttpResponse(status=204)
    context = _thread_context(contact, request.user)
    shown_open = shown.split("-")[2] == "1" if shown.count("-") >= 2 else window.is_open
    if shown_open != window.is_open:
        context.update(_composer_context(request, contact), composer_oob=True)
    return render(request, "callbacks/_chat_thread.html", context)


@require_GET
@project_page(capability=("marketing_pages.use", "chat.reply"))
def chat_template_preview(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The chosen template as the customer will see it, with the values typed so far."""
    selectors.chat_contact_get(project=request.project, contact_id=contact_id)
    pick = TemplatePickForm(request.GET, project=request.project)
    language = pick.language_chosen()
    if language is None:
        return HttpResponse("")
    params = {
        key.removeprefix("param_"): value
        for key, value in request.GET.items()
        if key.startswith("param_") and key.removeprefix("param_").isdigit()
    }
    preview = template_preview(
        language=language,
        params=params,
        header_param=request.GET.get("header_param") or None,
        button_url=request.GET.get("button_url") or None,
    )
    return render(request, "templates_app/_preview.html", {"preview": preview})


@require_POST
@project_page(capability=("marketing_pages.use", "chat.reply"))
def chat_assign(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.chat_contact_get(project=request.project, contact_id=contact_id)
    form = AssignForm(
        request.POST, members=selectors.chat_assignee_choices(project=request.project)
    )
    if not form.is_valid():
        messages.error(request, _("Choose a member of this project who may chat."))
        return redirect("callbacks:chat_conversation", contact_id=contact.pk)
    assignee = form.cleaned_data["assignee"]
    try:
        services.chat_assign(contact=contact, assignee=assignee, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        if assignee is None:
            messages.success(request, _("%(contact)s is unassigned.") % {"contact": contact})
        else:
            messages.success(
                request,
                _("%(contact)s is assigned to %(user)s.")
                % {"contact": contact, "user": assignee.get_username()},
            )
    return redirect(
        reverse("callbacks:chat_conversation", args=[contact.pk]) + f"?view={_view(request)}"
    )


@require_POST
@project_page(capability=("marketing_pages.use", "chat.reply"))
def chat_hand_back_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    project = request.project
    contact = services.chat_hand_back(
        contact=selectors.chat_contact_get(project=project, contact_id=contact_id),
        actor=request.user,
    )
    messages.success(request, _("%(contact)s is back with the chatbot.") % {"contact": contact})
    return redirect("callbacks:chat_conversation", contact_id=contact.pk)
