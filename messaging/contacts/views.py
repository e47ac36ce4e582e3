"""The contacts pages: list with search and groups, add, edit, import from CSV/XLSX, export.

Thin views: they read the form, call one contacts service or selector, and
render. Every page works on `request.project`; a row of another project is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging.contacts.forms import (
    ContactBulkForm,
    ContactFilterForm,
    ContactForm,
    ContactImportForm,
    GroupForm,
)
from messaging.contacts.groups import (
    group_create,
    group_delete,
    group_get,
    group_list,
    group_rename,
)
from messaging.contacts.imports import contact_import_list, contact_import_start
from messaging.contacts.selectors import contact_export_rows, contact_get, contact_list_ordered
from messaging.contacts.services import (
    contact_delete,
    contact_save,
    contacts_group_add,
    contacts_group_remove,
    contacts_opt_out,
    opt_out_record,
    opt_out_remove,
)
from messaging.models import Contact, ContactGroup, OptOut
from projects.ui import project_page
from wappin_portal.csv_export import csv_response
from wappin_portal.errors import ApplicationError, NotFound
from wappin_portal.ui import show_error

CONTACTS_PER_PAGE = 50


@require_GET
@project_page()
def contact_list(request: HttpRequest) -> HttpResponse:
    filters = ContactFilterForm(request.GET or None, project=request.project)
    query, group = "", None
    if filters.is_valid():
        query = filters.cleaned_data["q"]
        group = filters.cleaned_data["group"]
    contacts = contact_list_ordered(
        project=request.project, query=query, group_id=group.pk if group else None
    )
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
            "bulk_form": ContactBulkForm(project=request.project),
        },
    )


@require_POST
@project_page(capability=("marketing_pages.use", "contact.edit"))
def contact_bulk(request: HttpRequest) -> HttpResponse:
    """An action on the contacts ticked in the list; back to the list as it was filtered."""
    form = ContactBulkForm(request.POST, project=request.project)
    back = redirect("messaging:contact_list")
    next_query = QueryDict(request.POST.get("next_query", "")).urlencode()  # re-encoded: safe
    if next_query:
        back["Location"] += "?" + next_query
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    ids = [contact.pk for contact in form.cleaned_data["contacts"]]
    action, group = form.cleaned_data["action"], form.cleaned_data["group"]
    if action == ContactBulkForm.ADD_TO_GROUP:
        count = contacts_group_add(
            project=request.project, group=group, contact_ids=ids, actor=request.user
        )
        text = ngettext(
            "%(count)d contact added to %(group)s.", "%(count)d contacts added to %(group)s.", count
        ) % {"count": count, "group": group.name}
    elif action == ContactBulkForm.REMOVE_FROM_GROUP:
        count = contacts_group_remove(
            project=request.project, group=group, contact_ids=ids, actor=request.user
        )
        text = ngettext(
            "%(count)d contact removed from %(group)s.",
            "%(count)d contacts removed from %(group)s.",
            count,
        ) % {"count": count, "group": group.name}
    else:
        count = contacts_opt_out(project=request.project, contact_ids=ids, actor=request.user)
        text = ngettext(
            "%(count)d contact opted out of marketing.",
            "%(count)d contacts opted out of marketing.",
            count,
        ) % {"count": count}
    messages.success(request, text)
    return back


@require_POST
@project_page(capability=("marketing_pages.use", "contact.edit"))
def contact_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        contact = contact_get(project=request.project, contact_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error
    contact_delete(contact=contact, actor=request.user)
    messages.success(request, _("%(contact)s is deleted.") % {"contact": contact})
    return redirect("messaging:contact_list")


# --- groups -----------------------------------------------------------------------------


@require_GET
@project_page()
def group_list_view(request: HttpRequest) -> HttpResponse:
    return _group_page(request, form=GroupForm())


def _group_page(
    request: HttpRequest, *, form: GroupForm, renaming: GroupForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "messaging/group_list.html",
        {
            "project": request.project,
            "groups": group_list(project=request.project),
            "form": form,
            "renaming": renaming,
            "can_edit": request.can_edit,
        },
        status=status,
    )


@require_POST
@project_page(capability=("marketing_pages.use", "contact.edit"))
def group_create_view(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            group = group_create(project=request.project, name=form.cleaned_data["name"])
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("Group %(name)s created.") % {"name": group.name})
            return redirect("messaging:contact_group_list")
    return _group_page(request, form=form, status=400)


@require_POST
@project_page(capability=("marketing_pages.use", "contact.edit"))
def group_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(request, pk)
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            old_name = group.name
            group = group_rename(group=group, name=form.cleaned_data["name"])
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(
                request,
                _("Group %(old)s is now %(new)s.") % {"old": old_name, "new": group.name},
            )
            return redirect("messaging:contact_group_list")
    form.group_id = group.pk
    return _group_page(request, form=GroupForm(), renaming=form, status=400)


@require_POST
@project_page(capability=("marketing_pages.use", "contact.edit"))
def group_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(request, pk)
    try:
        group_delete(group=group)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, _("Group %(name)s deleted.") % {"name": group.name})
    return redirect("messaging:contact_group_list")


def _group_or_404(request: HttpRequest, pk: int) -> ContactGroup:
    try:
        return group_get(project=request.project, group_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error


@require_GET
@project_page()
def contact_export(request: HttpRequest) -> StreamingHttpResponse:
    filters = ContactFilterForm(request.GET or None, project=request.project)
    query, group = "", None
    if filters.is_valid():
        query = filters.cleaned_data["q"]
        group = filters.cleaned_data["group"]
    contacts = contact_list_ordered(
        project=request.project, query=query, group_id=group.pk if group else None
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(contact_export_rows(contacts=contacts), f"contacts-{stamp}.csv")


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
                    actor=request.user,
                )
            except ApplicationError as error:
                show_error(request, error, form)
            else:
                messages.success(request, _("Saved %(contact)s.") % {"contact": saved})
                return redirect("messaging:contact_list")
    else:
        form = ContactForm.for_contact(contact) if contact else ContactForm()
    return render(
        request,
        "messaging/contact_form.html",
        {"project": request.project, "form": form, "contact": contact},
    )


@require_http_methods(["GET", "POST"])
@project_page(capability=("marketing_pages.use", "contact.edit"))
def contact_create(request: HttpRequest) -> HttpResponse:
    return _contact_form_page(request, contact=None)


@require_http_methods(["GET", "POST"])
@project_page(capability=("marketing_pages.use", "contact.edit"))
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        contact = contact_get(project=request.project, contact_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error
    return _contact_form_page(request, contact=contact)


@require_POST
@project_page(capability=("marketing_pages.use", "contact.edit"))
def contact_opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    """A member puts the contact's number on the suppression list, or takes it off (audited)."""
    try:
        contact = contact_get(project=request.project, contact_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error
    if request.POST.get("subscribe") == "1":
        opt_out_remove(
            project=request.project, phone_number=contact.phone_number, actor=request.user
        )
        messages.success(
            request, _("%(contact)s receives marketing messages again.") % {"contact": contact}
        )
    else:
        opt_out_record(
            project=request.project,
            phone_number=contact.phone_number,
            source=OptOut.Source.PERSON,
            actor=request.user,
        )
        messages.success(
            request, _("%(contact)s receives no more marketing messages.") % {"contact": contact}
        )
    return redirect("messaging:contact_edit", pk=contact.pk)


@require_http_methods(["GET", "POST"])
@project_page(capability=("marketing_pages.use", "contact.edit"))
def contact_import_view(request: HttpRequest) -> HttpResponse:
    """Store the file, queue its import and show its progress page (the import runs in the background)."""
    if request.method == "POST":
        form = ContactImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                contact_import = contact_import_start(
                    project=request.project,
                    upload=form.cleaned_data["file"],
                    created_by=request.user,
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
        {
            "project": request.project,
            "form": form,
            "imports": contact_import_list(project=request.project)[:10],
        },
    )
