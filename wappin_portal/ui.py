"""The UI side of the error family: one helper turns an ApplicationError into what a person sees."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from wappin_portal.errors import ApplicationError, PermissionDenied, ValidationFailed


def show_error(
    request: HttpRequest, error: ApplicationError, form: forms.Form | None = None
) -> None:
    """Attach the error to the form's fields when it names them, else flash it.

    A refusal by role is no form error: it goes on to `projects.ui.project_page`, which
    answers the 403 page with its message.
    """
    if isinstance(error, PermissionDenied):
        raise error
    if form is not None:
        fields = getattr(error, "fields", None) or (
            {error.field: [error.message]} if error.field else {}
        )
        placed = False
        for name, field_messages in fields.items():
            target = name if name in form.fields else None
            for message in field_messages:
                form.add_error(target, message)
                placed = True
        if placed:
            return
        if not isinstance(error, ValidationFailed) or not fields:
            form.add_error(None, error.message)
            return
    messages.error(request, error.message)
