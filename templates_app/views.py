"""The marketing team's pages for templates, chatbot keywords and the default chatbot message.

Thin views: pick the current project, check the role, hand the form's data to
a service, show its error on the form (`wappin_portal.ui.show_error`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from projects.ui import project_page
from templates_app import selectors, services
from templates_app.forms import (
    ChatbotSettingsForm,
    KeywordForm,
    LanguageForm,
    LanguageFormSet,
    RejectForm,
    TemplateForm,
    language_contents,
    show_template_error,
)
from templates_app.models import Template
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error

# --- Templates ------------------------------------------------------------------------------


@project_page()
def template_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    status = request.GET.get("status", "")
    if status not in Template.Status.values:
        status = ""
    templates = selectors.template_list(project=project, status=status)
    return render(
        request,
        "templates_app/template_list.html",
        {
            "project": project,
            "templates": templates,
            "status": status,
            "statuses": Template.Status.choices,
        },
    )


@project_page(capability="template.manage")
def template_create(request: HttpRequest) -> HttpResponse:
    project = request.project
    form = TemplateForm(request.POST or None)
    formset = LanguageFormSet(request.POST or None, prefix="languages")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            template = services.template_create(
                project=project,
                name=form.cleaned_data["name"],
                message_type=form.cleaned_data["message_type"],
                languages=language_contents(formset),
                actor=request.user,
            )
        except ApplicationError as error:
            if not show_template_error(error, form, formset):
                show_error(request, error, form)
        else:
            messages.success(
                request,
                _("Template %(name)s saved as a draft. Request approval when it is ready.")
                % {"name": template.name},
            )
            return redirect("templates_app:template_detail", pk=template.pk)
    return render(
        request,
        "templates_app/template_form.html",
        {"project": project, "form": form, "formset": formset},
    )


@project_page(capability="template.manage")
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = request.project
    template = selectors.template_get(project=project, template_id=pk)
    if template.is_locked:
        messages.error(
            request,
            _(
                "Template %(name)s is %(status)s: you cannot edit a message template once its "
                "submission is 'On Process'. Create a new template instead."
            )
            % {"name": template.name, "status": template.get_status_display().lower()},
        )
        return redirect("templates_app:template_detail", pk=template.pk)
    initial = {"name": template.name, "message_type": template.message_type}
    form = TemplateForm(request.POST or None, initial=initial)
    formset = LanguageFormSet(
        request.POST or None,
        prefix="languages",
        initial=[LanguageForm.initial_for(language) for language in template.languages.all()],
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.template_update(
                template=template,
                name=form.cleaned_data["name"],
                message_type=form.cleaned_data["message_type"],
                languages=language_contents(formset),
                actor=request.user,
            )
        except ApplicationError as error:
            if not show_template_error(error, form, formset):
                show_error(request, error, form)
        else:
            messages.success(
                request, _("Template %(name)s saved.") % {"name": form.cleaned_data["name"]}
            )
            return redirect("templates_app:template_detail", pk=template.pk)
    return render(
        request,
        "templates_app/template_form.html",
        {"project": project, "form": form, "formset": formset, "template": template},
    )


@project_page()
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = request.project
    template = selectors.template_get(project=project, template_id=pk)
    languages = list(template.languages.all())
    previews = [(language, selectors.template_preview(language=language)) for language in languages]
    history = selectors.template_status_history(template=template)
    return render(
        request,
        "templates_app/template_detail.html",
        {
            "project": project,
            "template": template,
            "previews": previews,
            "history": history,
            "reject_form": RejectForm(),
            "poll_seconds": _status_poll_seconds(template),
        },
    )


# While WhatsApp reviews a template, its page asks for the status this often.
TEMPLATE_STATUS_POLL_SECONDS = 3


def _status_poll_seconds(template: Template) -> int | None:
    """Only a template on process changes by itself (WhatsApp's decision); others are final."""
    return TEMPLATE_STATUS_POLL_SECONDS if template.status == Template.Status.ON_PROCESS else None


@require_GET
@project_page()
def template_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The template page's live status (htmx), without polling attributes once it is final.

    `shown` is the status the page was drawn with: when it changed, the fragment offers a reload
    for that status's actions."""
    template = selectors.template_status_get(project=request.project, template_id=pk)
    return render(
        request,
        "templates_app/_template_status.html",
        {
            "template": template,
            "poll_seconds": _status_poll_seconds(template),
            "shown_status": request.GET.get("shown", "")[:20],
        },
    )


def _template_action(
    request: HttpRequest, pk: int, action: Callable[[Template], object], done: str
) -> HttpResponse:
    """`done`: the success message, a lazy translation with a `%(name)s` for the template."""
    template = selectors.template_get(project=request.project, template_id=pk)
    try:
        action(template)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, str(done) % {"name": template.name})
    return redirect("templates_app:template_detail", pk=template.pk)


@require_POST
@project_page(capability="template.manage")
def template_request_approval(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(
        request,
        pk,
        lambda t: services.template_request_approval(template=t, actor=request.user),
        gettext_lazy("Template %(name)s is on process: it is locked until WhatsApp decides."),
    )


@require_POST
@project_page(capability="template.decide")
def template_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(
        request,
        pk,
        lambda t: services.template_approve(template=t, actor=request.user),
        gettext_lazy("Template %(name)s is approved: it can be sent."),
    )


@require_POST
@project_page(capability="template.decide")
def template_reject(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _template_action(
        request,
        pk,
        lambda t: services.template_reject(template=t, reason=reason, actor=request.user),
        gettext_lazy("Template %(name)s is rejected."),
    )


@require_POST
@project_page(capability="template.manage")
def template_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(
        request,
        pk,
        lambda t: services.template_deactivate(template=t, actor=request.user),
        gettext_lazy("Template %(name)s is inactive: sends of it are refused."),
    )


@require_POST
@project_page(capability="template.decide")
def template_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _template_action(
        request,
        pk,
        lambda t: services.template_reactivate(template=t, actor=request.user),
        gettext_lazy("Template %(name)s is active again."),
    )


@require_POST
@project_page(capability="template.manage")
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    project = request.project
    template = selectors.template_get(project=project, template_id=pk)
    try:
        services.template_delete(template=template, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
        return redirect("templates_app:template_detail", pk=template.pk)
    messages.success(request, _("Template %(name)s deleted.") % {"name": template.name})
    return redirect("templates_app:template_list")


# --- Chatbot keywords ---------------------------------------------------------------------------


@project_page()
def keyword_list(request: HttpRequest) -> HttpResponse:
    project = request.project
    keywords = selectors.keyword_list(project=project)
    return render(
        request, "templates_app/keyword_list.html", {"project": project, "keywords": keywords}
    )


def _keyword_values(form: KeywordForm) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if name != "response_media"}


@project_page(capability="chatbot.manage")
def keyword_create(request: HttpRequest) -> HttpResponse:
    project = request.project
    form = KeywordForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            keyword = services.keyword_create(
                project=project,
                response_media=form.cleaned_data.get("response_media"),
                actor=request.user,
                **_keyword_values(form),
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(
                request, _("Keyword %(keyword)s saved.") % {"keyword": keyword.keyword}
            )
            return redirect("templates_app:keyword_list")
    return render(request, "templates_app/keyword_form.html", {"project": project, "form": form})


@project_page(capability="chatbot.manage")
def keyword_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = request.project
    keyword = selectors.keyword_get(project=project, keyword_id=pk)
    initial = {name: getattr(keyword, name) for name in services.KEYWORD_EDITABLE}
    form = KeywordForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.keyword_update(
                chatbot_keyword=keyword,
                response_media=form.cleaned_data.get("response_media"),
                actor=request.user,
                **_keyword_values(form),
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(
                request,
                _("Keyword %(keyword)s saved.") % {"keyword": form.cleaned_data["keyword"]},
            )
            return redirect("templates_app:keyword_list")
    return render(
        request,
        "templates_app/keyword_form.html",
        {"project": project, "form": form, "keyword": keyword},
    )


@require_POST
@project_page(capability="chatbot.manage")
def keyword_delete(request: HttpRequest, pk: int) -> HttpResponse:
    project = request.project
    keyword = selectors.keyword_get(project=project, keyword_id=pk)
    services.keyword_delete(chatbot_keyword=keyword, actor=request.user)
    messages.success(request, _("Keyword %(keyword)s deleted.") % {"keyword": keyword.keyword})
    return redirect("templates_app:keyword_list")


@project_page(capability="chatbot.manage")
def chatbot_settings(request: HttpRequest) -> HttpResponse:
    project = request.project
    """Wappin's Account -> Official Account Number screen: the default chatbot message."""
    form = ChatbotSettingsForm(
        request.POST or None, initial={"default_chatbot_message": project.default_chatbot_message}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.project_chatbot_settings_update(
                project=project,
                default_chatbot_message=form.cleaned_data["default_chatbot_message"],
                actor=request.user,
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("Default chatbot message saved."))
            return redirect("templates_app:keyword_list")
    return render(
        request, "templates_app/chatbot_settings.html", {"project": project, "form": form}
    )
