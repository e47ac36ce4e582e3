"""The project admin's pages in the portal: members, integrations, the audit log.

Thin views: the services (`projects.services`) check the `member.manage` /
`integration.manage` capability again and write the audit rows.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import selectors
from projects.forms import AuditFilterForm, IntegrationForm, MemberAddForm, MemberRoleForm
from projects.models import AuditEvent, Membership
from projects.services import integration_save, member_add, membership_remove, membership_set
from projects.ui import project_page
from wappin_portal.csv_export import csv_response
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error


@require_http_methods(["GET", "POST"])
@project_page(capability="member.manage")
def member_list(request: HttpRequest) -> HttpResponse:
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = member_add(
                project=request.project,
                username_or_email=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(
                request,
                _("%(user)s is now a member (%(role)s).")
                % {"user": membership.user, "role": membership.get_role_display()},
            )
            return redirect("project_admin:members")
    return render(
        request,
        "projects/manage/members.html",
        {
            "project": request.project,
            "form": form,
            "memberships": selectors.membership_list(project=request.project),
            "role_choices": Membership.Role.choices,
        },
    )


@require_POST
@project_page(capability="member.manage")
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = selectors.membership_get(project=request.project, membership_id=pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles."))
        return redirect("project_admin:members")
    try:
        membership_set(
            project=request.project,
            user=membership.user,
            role=form.cleaned_data["role"],
            actor=request.user,
        )
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, _("%(user)s's role is changed.") % {"user": membership.user})
    return redirect("project_admin:members")


@require_http_methods(["GET", "POST"])
@project_page(capability="member.manage")
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what the removal does (the API keys it revokes); POST: remove."""
    membership = selectors.membership_get(project=request.project, membership_id=pk)
    if request.method == "POST":
        try:
            membership_remove(membership=membership, actor=request.user)
        except ApplicationError as error:
            show_error(request, error)
        else:
            messages.success(
                request, _("%(user)s is no longer a member.") % {"user": membership.user}
            )
            return redirect("project_admin:members")
    return render(
        request,
        "projects/manage/member_remove.html",
        {
            "project": request.project,
            "membership": membership,
            "api_keys": selectors.api_keys_of_creator(
                project=request.project, user=membership.user
            ),
        },
    )


@require_GET
@project_page(capability="integration.manage")
def integration_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "projects/manage/integrations.html",
        {
            "project": request.project,
            "integrations": selectors.integration_list(project=request.project),
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET", "POST"])
@project_page(capability="integration.manage")
def integration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    integration = selectors.integration_get(project=request.project, integration_id=pk)
    form = IntegrationForm(request.POST or None, instance=integration)
    if request.method == "POST" and form.is_valid():
        try:
            integration_save(
                integration=form.instance, actor=request.user, secrets_given=form.secrets_given()
            )
        except ApplicationError as error:
            show_error(request, error, form)
        except ValidationError as error:  # the model's validators, run by the service
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        else:
            messages.success(request, _("%(integration)s is saved.") % {"integration": integration})
            return redirect("project_admin:integrations")
    response = render(
        request,
        "projects/manage/integration_form.html",
        {"project": request.project, "integration": integration, "form": form},
    )
    response["Cache-Control"] = "no-store"
    return response


AUDIT_PAGE_SIZE = 50


def _audit_events(request: HttpRequest):
    actors = get_user_model().objects.filter(
        pk__in=AuditEvent.objects.filter(project=request.project)
        .exclude(actor=None)
        .values("actor_id")
    )
    form = AuditFilterForm(request.GET or None, actors=actors.order_by("username"))
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_event_list(
        project=request.project,
        action=filters.get("action") or "",
        actor_id=filters.get("actor"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    return form, events


@require_GET
@project_page(capability="audit.read")
def audit_list(request: HttpRequest) -> HttpResponse:
    form, events = _audit_events(request)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.data_text = selectors.audit_data_text(event)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "projects/manage/audit.html",
        {
            "project": request.project,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "actions": selectors.audit_actions(project=request.project),
        },
    )


@require_GET
@project_page(capability="audit.read")
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _form, events = _audit_events(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(selectors.audit_export_rows(events=events), f"audit-{stamp}.csv")
