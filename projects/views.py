"""Developers' own page: the project's API keys (create, shown once; revoke); the project switcher."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from projects import selectors
from projects.models import Project
from projects.selectors import SESSION_PROJECT_KEY, project_list_for_user
from projects.services import api_key_create, api_key_revoke, project_opt_out_texts_update
from projects.ui import project_page
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, e.g. “order service (production)”."),
        strip=True,
    )


@project_page(capability="api_key.manage")
def api_key_list(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        created = api_key_create(
            project=request.project, name=form.cleaned_data["name"], created_by=request.user
        )
        form = ApiKeyForm()
    # The new key is on this answer only: never in a redirect, a message cookie or the database.
    response = render(
        request,
        "projects/api_keys.html",
        {
            "project": request.project,
            "form": form,
            "created": created,
            "api_keys": selectors.api_key_list(project=request.project),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@project_page(capability="api_key.manage")
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = selectors.api_key_get(project=request.project, api_key_id=pk)
    try:
        api_key_revoke(api_key=api_key, actor=request.user)
    except ApplicationError as error:
        messages.warning(request, error.message)
    else:
        messages.success(
            request, _("%(key)s is revoked: calls with it now answer 401.") % {"key": api_key}
        )
    return redirect("projects:api_keys")


@login_required
@require_POST
def project_switch(request: HttpRequest) -> HttpResponseRedirect:
    project = (
        project_list_for_user(user=request.user).filter(pk=request.POST.get("project")).first()
    )
    if project is not None:
        request.session[SESSION_PROJECT_KEY] = project.pk
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


class OptOutTextsForm(forms.Form):
    """The four confirmation texts, labelled and explained as the model says."""

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in Project.OPT_OUT_TEXT_FIELDS:
            model_field = Project._meta.get_field(name)
            self.fields[name] = forms.CharField(
                label=model_field.verbose_name,
                help_text=model_field.help_text,
                max_length=model_field.max_length,
                initial=getattr(project, name),
                widget=forms.Textarea(attrs={"rows": 3}),
            )


@project_page(capability="project.settings")
def project_settings(request: HttpRequest) -> HttpResponse:
    """The project's own settings a project admin may change: the STOP/START confirmations."""
    project = request.project
    if request.method == "POST" and "restore_defaults" in request.POST:
        data = {
            name: Project._meta.get_field(name).get_default()
            for name in Project.OPT_OUT_TEXT_FIELDS
        }
        form = OptOutTextsForm(data, project=project)
    else:
        form = OptOutTextsForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            project_opt_out_texts_update(
                project=project, actor=request.user, texts=form.cleaned_data
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The confirmation texts are saved."))
            return redirect("project_settings")
    return render(
        request,
        "projects/project_settings.html",
        {"project": project, "form": form},
    )
