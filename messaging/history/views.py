"""The history pages: the message list with filters and keyset pages, its CSV export, one message, a refresh.

Thin views over `messaging.history.selectors` (and the refresh service). Every
page works on `request.project`; a message of another project is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from messaging.history import selectors
from messaging.history.forms import MessageFilterForm
from messaging.models import Message
from messaging.sending.delivery import message_refresh_status
from projects.ui import project_page
from wappin_portal.csv_export import csv_response
from wappin_portal.errors import ApplicationError, NotFound, ValidationFailed
from wappin_portal.ui import show_error

CALLS_SHOWN = 20


def _message_or_404(request: HttpRequest, pk: int) -> Message:
    try:
        return selectors.message_get(project=request.project, message_id=pk)
    except NotFound as error:
        raise Http404(error.message) from error


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
    page = selectors.message_page(
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
    return csv_response(selectors.message_export_rows(messages=queryset), f"messages-{stamp}.csv")


@require_GET
@project_page()
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    # Only what was sent and learnt: nothing of the integration (keys, tokens, callback) is read here.
    return render(
        request,
        "messaging/message_detail.html",
        {
            "project": request.project,
            "message": message,
            "events": selectors.message_timeline(message=message),
            "calls": selectors.message_call_logs(message=message, limit=CALLS_SHOWN),
            "params": sorted(
                (message.params or {}).items(), key=lambda item: _param_order(item[0])
            ),
            "reply_payloads": sorted((message.reply_payloads or {}).items()),
            "can_refresh": message.direction == Message.Direction.OUTGOING
            and bool(message.wappin_message_id)
            and message.status not in Message.FINAL_STATUSES,
        },
    )


def _param_order(key: str) -> tuple[int, str]:
    return (int(key), key) if str(key).isdigit() else (10**6, str(key))


@require_POST
@project_page(capability="message.send")
def message_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    try:
        refreshed = message_refresh_status(message_id=message.pk, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(
            request,
            _("Status refreshed from Wappin: %(status)s.")
            % {"status": refreshed.get_status_display()},
        )
    return redirect("messaging:message_detail", pk=message.pk)
