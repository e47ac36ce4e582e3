"""The project admin pages' forms: members, integrations, the audit log's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from projects.models import Integration, Membership


class MemberAddForm(forms.Form):
    user = forms.CharField(
        label=_("User name or e-mail address"),
        max_length=254,
        help_text=_("The person needs an account already."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


SECRET_KEEP_HELP = _("Leave empty to keep the stored one (it is never shown).")
SECRET_KEY_HELP = _(
    "Leave empty to keep the stored one (it is never shown). A new secret key is another "
    "Wappin client: its token is fetched on the next call."
)


def write_only_secret_field(*, label, help_text=SECRET_KEEP_HELP) -> forms.CharField:
    """A secret typed in and never shown back (the admin's and the project admin's forms)."""
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


def _address_lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class IntegrationForm(forms.ModelForm):
    """The fields a project admin edits; the secrets are write-only (empty keeps the stored one)
    and the model's validators (URL, address lists) check the rest through `integration_save`."""

    ip_whitelist = forms.CharField(
        label=_("IP whitelist (Wappin's side)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The addresses of this portal's servers, one per line."),
    )
    callback_ip_allowlist = forms.CharField(
        label=_("Callback IP allow-list (our side)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The addresses Wappin's callbacks may come from, one per line (10.0.0.0/24 "
            "for a network). Empty: any address."
        ),
    )
    client_key = write_only_secret_field(label=_("New client key"))
    secret_key = write_only_secret_field(label=_("New secret key"), help_text=SECRET_KEY_HELP)

    class Meta:
        model = Integration
        fields = ["is_active", "callback_url", "max_messages_per_second"]
        labels = {"is_active": _("Active")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["ip_whitelist"] = "\n".join(self.instance.ip_whitelist or [])
            self.initial["callback_ip_allowlist"] = "\n".join(
                self.instance.callback_ip_allowlist or []
            )

    def clean_ip_whitelist(self) -> list[str]:
        return _address_lines(self.cleaned_data["ip_whitelist"])

    def clean_callback_ip_allowlist(self) -> list[str]:
        return _address_lines(self.cleaned_data["callback_ip_allowlist"])

    def _post_clean(self) -> None:
        # The model is validated once, by `integration_save` (full_clean), not here as well.
        for field in ("ip_whitelist", "callback_ip_allowlist"):
            if field in self.cleaned_data:
                setattr(self.instance, field, self.cleaned_data[field])
        forms.models.construct_instance(self, self.instance, fields=self._meta.fields)

    def secrets_given(self) -> dict[str, str]:
        return {
            field: self.cleaned_data[field]
            for field in ("client_key", "secret_key")
            if self.cleaned_data.get(field)
        }


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=80)
    actor = forms.TypedChoiceField(label=_("By"), required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, actors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", _("anyone"))] + [
            (user.pk, user.get_username()) for user in actors
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned
