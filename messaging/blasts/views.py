"""The blast pages: list, create and edit (with a live preview), detail with progress, the recipients'
CSV, start, pause, resume and cancel.

Thin views over the blasts' services and selectors. Blasts send to many people at once, so every
page is for marketing and admin members only.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging.blasts import selectors, services
from messaging.blasts.forms import BlastForm
from messaging.contacts.selectors import contact_group_find
from messaging.models import Blast
from messaging.sending.forms import TemplatePickForm
from projects.ui import project_page
from wappin_portal.csv_export import csv_response
from wappin_portal.errors import ApplicationError, NotFound
from wappin_portal.ui import show_error

REFUSALS_SHOWN = 200


def _blast_or_404(request: HttpRequest, pk: int) -> Blast:
    try:
        return selectors.blast_get(project=request.project, blast_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error


def _blast_rows(request: HttpRequest) -> dict:
    rows = list(selectors.blast_list(project=request.project)[:100])
    progress = selectors.blast_progress_many(blasts=rows)
    return {
        "project": request.project,
        "rows": [(blast, progress[blast.pk]) for blast in rows],
        "any_running": any(blast.is_running for blast in rows),
    }


@require_GET
@project_page(capability="marketing_pages.use")
def blast_list(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/blast_list.html", _blast_rows(request))


@require_GET
@project_page(capability="marketing_pages.use")
def blast_list_rows(request: HttpRequest) -> HttpResponse:
    """The blast list's live rows (htmx), without their polling attributes once none sends."""
    return render(request, "messaging/_blast_rows.html", _blast_rows(request))


def _preview_for(request: HttpRequest, form: BlastForm, data) -> dict:
    group = contact_group_find(project=request.project, group_id=data.get("group"))
    contact = selectors.blast_audience_first(project=request.project, group=group)
    return selectors.blast_preview(language=form.language, contact=contact, **form.mappings(data))


@require_http_methods(["GET", "POST"])
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_create(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    pick = TemplatePickForm(data, project=request.project)
    language = pick.language_chosen()
    form = preview = None
    if language is not None:
        bound = request.method == "POST"
        form = BlastForm(
            data if bound else None,
            request.FILES if bound else None,
            project=request.project,
            language=language,
        )
        if bound and form.is_valid():
            try:
                blast = services.blast_create(
                    project=request.project, created_by=request.user, **form.create_arguments()
                )
            except ApplicationError as error:
                show_error(request, error, form)
            else:
                messages.success(
                    request,
                    _("Blast “%(name)s” saved as a draft: check it, then start it.")
                    % {"name": blast.name},
                )
                return redirect("messaging:blast_detail", pk=blast.pk)
        preview = _preview_for(request, form, data if bound else {})
    return render(
        request,
        "messaging/blast_form.html",
        {
            "project": request.project,
            "pick": pick,
            "template": pick.template_chosen(),
            "language": language,
            "form": form,
            "preview": preview,
        },
    )


@require_GET
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_preview(request: HttpRequest) -> HttpResponse:
    """The preview fragment the create form reloads as the marketer changes the mapping."""
    pick = TemplatePickForm(request.GET, project=request.project)
    language = pick.language_chosen()
    if language is None:
        return HttpResponse("")
    form = BlastForm(project=request.project, language=language)
    return render(
        request,
        "messaging/blast_preview.html",
        {"preview": _preview_for(request, form, request.GET)},
    )


@require_GET
@project_page(capability="marketing_pages.use")
def blast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    refusals, refusals_more = selectors.blast_refusals_shown(blast=blast, limit=REFUSALS_SHOWN)
    preview = None
    language = selectors.blast_language(blast=blast)
    if language is not None:
        preview = selectors.blast_preview(
            language=language,
            params=blast.params,
            header_param=blast.header_param,
            button_url=blast.button_url,
            contact=selectors.blast_audience_first(project=request.project, group=blast.group),
        )
    progress = selectors.blast_progress(blast=blast)
    return render(
        request,
        "messaging/blast_detail.html",
        {
            "project": request.project,
            "blast": blast,
            "progress": progress,
            "poll_seconds": selectors.blast_poll_seconds(blast=blast, progress=progress),
            "reach": selectors.blast_reach(blast=blast)
            if blast.status == Blast.Status.DRAFT
            else None,
            "reasons": selectors.blast_reasons(blast=blast),
            "refusals": refusals,
            "refusals_more": refusals_more,
            "preview": preview,
            "history_url": f"{reverse('messaging:message_list')}?blast={blast.pk}",
        },
    )


@require_GET
@project_page(capability="marketing_pages.use")
def blast_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The blast page's live part (htmx): the figures, and the status badge out of band.

    Rendered without its polling attributes once the figures are final, so htmx stops asking."""
    blast = _blast_or_404(request, pk)
    progress = selectors.blast_progress(blast=blast)
    return render(
        request,
        "messaging/_blast_progress.html",
        {
            "blast": blast,
            "progress": progress,
            "reasons": selectors.blast_reasons(blast=blast),
            "poll_seconds": selectors.blast_poll_seconds(blast=blast, progress=progress),
            "oob": True,
        },
    )


@require_POST
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_start(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    try:
        blast = services.blast_start(blast_id=blast.pk, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        if blast.status == Blast.Status.SCHEDULED:
            when = timezone.localtime(blast.scheduled_at).strftime("%Y-%m-%d %H:%M")
            messages.success(request, _("Blast scheduled: it starts at %(when)s.") % {"when": when})
        else:
            messages.success(
                request,
                _("Blast started: %(count)s contacts are being queued.")
                % {"count": blast.audience_count},
            )
    return redirect("messaging:blast_detail", pk=blast.pk)


@require_POST
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_pause(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    try:
        services.blast_pause(blast_id=blast.pk, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, _("Blast paused: no further message goes until you resume it."))
    return redirect("messaging:blast_detail", pk=blast.pk)


@require_POST
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_resume(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    try:
        services.blast_resume(blast_id=blast.pk, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, _("Blast resumed."))
    return redirect("messaging:blast_detail", pk=blast.pk)


@require_GET
@project_page(capability="marketing_pages.use")
def blast_recipients_csv(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    return csv_response(
        selectors.blast_recipient_csv_rows(blast=blast), f"blast-{blast.pk}-recipients.csv"
    )


@require_http_methods(["GET", "POST"])
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_edit(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    if not blast.is_editable:
        messages.error(request, _("Only a draft can be edited."))
        return redirect("messaging:blast_detail", pk=blast.pk)
    language = selectors.blast_language(blast=blast)
    if language is None:
        raise Http404(_("The template of this blast no longer exists."))
    bound = request.method == "POST"
    form = BlastForm(
        *((request.POST, request.FILES) if bound else ()),
        project=request.project,
        language=language,
        blast=blast,
    )
    if "media" in form.fields and blast.media:
        form.fields["media"].required = False
    if bound and form.is_valid():
        changes = form.create_arguments()
        changes.pop("template_name")
        changes.pop("language_code")
        if not changes["media"]:
            changes.pop("media")
        try:
            services.blast_update(blast_id=blast.pk, actor=request.user, **changes)
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("messaging:blast_detail", pk=blast.pk)
    preview = _preview_for(
        request, form, request.POST if bound else {**form.initial, "group": blast.group_id}
    )
    return render(
        request,
        "messaging/blast_form.html",
        {
            "project": request.project,
            "blast": blast,
            "template": blast.template,
            "language": language,
            "form": form,
            "preview": preview,
            "pick": None,
        },
    )


@require_POST
@project_page(capability=("marketing_pages.use", "blast.run"))
def blast_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    blast = _blast_or_404(request, pk)
    try:
        services.blast_cancel(blast_id=blast.pk, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, _("Blast cancelled: no further message will be queued."))
    return redirect("messaging:blast_detail", pk=blast.pk)
