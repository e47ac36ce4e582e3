from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from projects.webhooks.models import WebhookEventType


class WebhookEndpointForm(forms.Form):
    """The fields a person fills in; the rules (https, known events) are the services'."""

    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Where each event is POSTed, e.g. https://example.com/hooks/wappin."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class WebhookEndpointEditForm(WebhookEndpointForm):
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("Untick to pause deliveries; tick to enable a disabled endpoint again."),
    )
