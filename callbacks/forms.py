"""The chat panel's forms: a reply, a template when the 24-hour window is closed, an assignment."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from messaging.models import Contact
from messaging.sending.forms import TrySendForm
from templates_app.models import TemplateLanguage


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4096
    )


class ChatTemplateForm(TrySendForm):
    """The test send's fields of one template language, sent to the conversation's contact."""

    def __init__(self, *args, language: TemplateLanguage, contact: Contact, **kwargs):
        super().__init__(*args, language=language, **kwargs)
        self.contact = contact
        del self.fields["recipient_number"]

    def clean(self):
        cleaned = super().clean()
        cleaned["recipient_number"] = self.contact.phone_number
        return cleaned


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label=_("Assigned to"),
        empty_label=_("Nobody"),
    )

    def __init__(self, *args, members: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = get_user_model().objects.filter(
            pk__in=[member.pk for member in members]
        )
