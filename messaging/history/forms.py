"""The history pages' filter form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from messaging.models import Message


def _with_any(choices):
    return [("", _("Any")), *choices]


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=_with_any(Message.Status.choices), required=False, label=_("Status")
    )
    direction = forms.ChoiceField(
        choices=_with_any(Message.Direction.choices), required=False, label=_("Direction")
    )
    kind = forms.ChoiceField(
        choices=_with_any(Message.Kind.choices), required=False, label=_("Kind")
    )
    template = forms.CharField(max_length=512, required=False, label=_("Template"))
    number = forms.CharField(
        max_length=30,
        required=False,
        label=_("Number"),
        widget=forms.TextInput(attrs={"placeholder": _("0812… or part")}),
    )
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # Set by a blast's "messages in the history" link.
    blast = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> dict:
        """`message_list`'s filters from the valid fields (an invalid one is shown and left out)."""
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status"),
            "direction": data.get("direction"),
            "kind": data.get("kind"),
            "template": (data.get("template") or "").strip(),
            "number": (data.get("number") or "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to") if "date_to" not in self.errors else None,
            "blast": data.get("blast"),
        }
