"""The marketing web UI: contacts, message history and the test send of a template.

Thin views: they read the form, call one function of `messaging.contacts`,
`messaging.history` or `messaging.services`, and render. Every page works on
`project_current(request=...)`; a row of another project is a 404.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging import selectors, services
from messaging.contacts.imports import contact_import_list, contact_import_start
from messaging.contacts.services import (
    contact_export_rows,
    contact_list_ordered,
    contact_save,
)
from messaging.forms import (
    ContactFilterForm,
    ContactForm,
    ContactImportForm,
    MessageFilterForm,
    TemplatePickForm,
    TrySendForm,
)
from messaging.history import message_export_rows, message_page
from messaging.models import Contact, Message
from projects.ui import EDITOR_ROLES, project_page
from wappin_portal.errors import ApplicationError, NotFound, ValidationFailed
from wappin_portal.ui import show_error

CONTACTS_PER_PAGE = 50


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Contacts -------------------------------------------------------------------------------


@require_GET
@project_page()
def contact_list(request: HttpRequest) -> HttpResponse:
    filters = ContactFilterForm(request.GET or None, project=request.project)
    query, group = "", None
    if filters.is_valid():
        query = filters.cleaned_data["q"]
        group = filters.cleaned_data["group"]
    contacts = contact_list_ordered(project=request.project, query=query, group_id=group.pk if group else None)
    page = Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(
        request,
        "messaging/contact_list.html",
        {
            "project": request.project,
            "filters": filters,
            "page": page,
            "query_string": query_string.urlencode(),
            "can_edit": request.can_edit,
        },
    )


@require_GET
@project_page()
def contact_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = ContactFilterForm(request.GET or None, project=request.project)
    query, group = "", None
    if filters.is_valid():
        query = filters.cleaned_data["q"]
        group = filters.cleaned_data["group"]
    contacts = contact_list_ordered(project=request.project, query=query, group_id=group.pk if group else None)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _csv_response(contact_export_rows(contacts=contacts), f"contacts-{stamp}.csv")


def _contact_form_page(request: HttpRequest, *, contact: Contact | None) -> HttpResponse:
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                saved = contact_save(
                    project=request.project,
                    contact=contact,
                    phone_number=form.cleaned_data["phone_number"],
                    name=form.cleaned_data["name"],
                    group_names=form.cleaned_data["groups"],
                )
            except ApplicationError as error:
                show_error(request, error, form)
            else:
                messages.success(request, f"Saved {saved}.")
                return redirect("messaging:contact_list")
    else:
        form = ContactForm.for_contact(contact) if contact else ContactForm()
    return render(
        request,
        "messaging/contact_form.html",
        {"project": request.project, "form": form, "contact": contact},
    )


@require_http_methods(["GET", "POST"])
@project_page(roles=EDITOR_ROLES)
def contact_create(request: HttpRequest) -> HttpResponse:
    return _contact_form_page(request, contact=None)


@require_http_methods(["GET", "POST"])
@project_page(roles=EDITOR_ROLES)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk, project=request.project)
    return _contact_form_page(request, contact=contact)


@require_http_methods(["GET", "POST"])
@project_page(roles=EDITOR_ROLES)
def contact_import_view(request: HttpRequest) -> HttpResponse:
    """Store the file, queue its import and show its progress page (the import runs in the background)."""
    if request.method == "POST":
        form = ContactImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                contact_import = contact_import_start(
                    project=request.project, upload=form.cleaned_data["file"], created_by=request.user
                )
            except ApplicationError as error:
                show_error(request, error, form)
            else:
                return redirect("messaging:contact_import_detail", pk=contact_import.pk)
    else:
        form = ContactImportForm()
    return render(
        request,
        "messaging/contact_import.html",
        {"project": request.project, "form": form, "imports": contact_import_list(project=request.project)[:10]},
    )


# --- History --------------------------------------------------------------------------------


def _filtered_messages(request: HttpRequest):
    form = MessageFilterForm(request.GET or None)
    form.is_valid()  # invalid filters are shown on the form and left out of the query
    try:
        return form, selectors.message_list(project=request.project, filters=form.filters())
    except ValidationFailed as error:  # one the form reads but the query refuses (a year like 9999)
        if error.field not in form.fields:
            raise
        form.add_error(error.field, error.message)
        return form, selectors.message_list(project=request.project, filters=form.filters())


@require_GET
@project_page()
def message_list(request: HttpRequest) -> HttpResponse:
    form, queryset = _filtered_messages(request)
    page = message_page(
        messages=queryset, after=request.GET.get("after", ""), before=request.GET.get("before", "")
    )
    query_string = request.GET.copy()
    for key in ("after", "before"):
        query_string.pop(key, None)
    return render(
        request,
        "messaging/message_list.html",
        {
            "project": request.project,
            "filters": form,
            "page": page,
            "query_string": query_string.urlencode(),
            "can_send": request.can_edit,
        },
    )


@require_GET
@project_page()
def message_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, queryset = _filtered_messages(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _csv_response(message_export_rows(messages=queryset), f"messages-{stamp}.csv")


@require_GET
@project_page()
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = selectors.message_get(project=request.project, message_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error
    # Only what was sent and learnt: nothing of the integration (keys, tokens, callback) is read here.
    return render(
        request,
        "messaging/message_detail.html",
        {
            "project": request.project,
            "message": message,
            "events": message.status_events.all(),
            "calls": message.call_logs.all()[:20],
            "params": sorted((message.params or {}).items(), key=lambda item: _param_order(item[0])),
            "reply_payloads": sorted((message.reply_payloads or {}).items()),
            "can_refresh": message.direction == Message.Direction.OUTGOING
            and bool(message.wappin_message_id)
            and message.status not in (Message.Status.READ, Message.Status.FAILED),
        },
    )


def _param_order(key: str) -> tuple[int, str]:
    return (int(key), key) if str(key).isdigit() else (10**6, str(key))


@require_POST
@project_page()
def message_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk, project=request.project)
    try:
        refreshed = services.message_refresh_status(message_id=message.pk)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, f"Status refreshed from Wappin: {refreshed.get_status_display()}.")
    return redirect("messaging:message_detail", pk=message.pk)


# --- Test send ------------------------------------------------------------------------------


def _errors_for_form(error: ApplicationError, form: TrySendForm) -> ApplicationError:
    """The same error, its field names turned into this form's (the services use the API's)."""
    fields = getattr(error, "fields", None) or ({error.field: [error.message]} if error.field else {})
    if not fields:
        return error
    return ValidationFailed(error.message, fields=form.error_fields(fields), code=error.code)


@require_http_methods(["GET", "POST"])
@project_page(roles=EDITOR_ROLES)
def test_send(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    pick = TemplatePickForm(data, project=request.project)
    language = pick.language_chosen()
    form = None
    if language is not None:
        form = TrySendForm(
            data if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
            language=language,
        )
        if request.method == "POST" and form.is_valid():
            try:
                message = services.message_send_hsm(
                    project=request.project,
                    source=Message.Source.USER,
                    sent_by=request.user,
                    **form.send_arguments(),
                )
            except ApplicationError as error:
                show_error(request, _errors_for_form(error, form), form)
            else:
                messages.success(
                    request, f"Test message queued to {message.phone_number}: follow it below."
                )
                return redirect("messaging:message_detail", pk=message.pk)
    return render(
        request,
        "messaging/test_send.html",
        {
            "project": request.project,
            "pick": pick,
            "template": pick.template_chosen(),
            "language": language,
            "form": form,
            "history_url": reverse("messaging:message_list"),
        },
    )
