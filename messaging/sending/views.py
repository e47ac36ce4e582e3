"""The test send page: pick an approved template, fill its values, send it to your own number.

A thin view over `sending.services.message_send_hsm`, the API's own path.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from messaging.models import Message
from messaging.sending import services
from messaging.sending.forms import TemplatePickForm, TrySendForm
from projects.ui import project_page
from wappin_portal.errors import ApplicationError, ValidationFailed
from wappin_portal.ui import show_error


def _errors_for_form(error: ApplicationError, form: TrySendForm) -> ApplicationError:
    """The same error, its field names turned into this form's (the services use the API's)."""
    fields = getattr(error, "fields", None) or (
        {error.field: [error.message]} if error.field else {}
    )
    if not fields:
        return error
    return ValidationFailed(error.message, fields=form.error_fields(fields), code=error.code)


@require_http_methods(["GET", "POST"])
@project_page(capability=("marketing_pages.use", "message.send"))
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
                    request,
                    _("Test message queued to %(number)s: follow it below.")
                    % {"number": message.phone_number},
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
