"""The history pages' filter form."""

from __future__ import annotations

from django import forms

from messaging.models import Message


def _with_any(choices, label="Any"):
    return [("", label), *choices]


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(choices=_with_any(Message.Status.choices), required=False)
    direction = forms.ChoiceField(choices=_with_any(Message.Direction.choices), required=False)
    kind = forms.ChoiceField(choices=_with_any(Message.Kind.choices), required=False)
    template = forms.CharField(max_length=512, required=False)
    number = forms.CharField(
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "0812… or part"}),
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    # Set by a blast's "messages in the history" link.
    blast = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
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
