"""The dashboard's period: a preset or a custom range of local days."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.dashboard.selectors import Period

PRESETS = {"today": 1, "7": 7, "30": 30, "90": 90}
DEFAULT_PRESET = "30"
MAX_DAYS = 366


class DashboardPeriodForm(forms.Form):
    range = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("today", _("Today")),
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            ("custom", _("Custom range")),
        ],
    )
    first = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("range") != "custom":
            return data
        first, last = data.get("first"), data.get("last")
        if not first or not last:
            raise forms.ValidationError(_("A custom range needs a first and a last day."))
        if first > last:
            raise forms.ValidationError(_("The first day comes after the last one."))
        if (last - first).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("A range covers at most %(days)s days.") % {"days": MAX_DAYS}
            )
        if first > timezone.localdate():
            raise forms.ValidationError(_("The range starts in the future."))
        return data

    def period(self) -> Period:
        """The chosen period; the default (last 30 days) when the form is unbound or invalid."""
        if not self.is_bound or not self.is_valid():
            return Period.last_days(PRESETS[DEFAULT_PRESET])
        choice = self.cleaned_data.get("range") or DEFAULT_PRESET
        if choice == "custom":
            return Period(first=self.cleaned_data["first"], last=self.cleaned_data["last"])
        return Period.last_days(PRESETS[choice])
