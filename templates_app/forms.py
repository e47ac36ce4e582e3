"""Web UI forms. They only shape input for the services, which hold every rule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from templates_app.models import ChatbotKeyword, Template, TemplateLanguage
from wappin_portal.errors import ApplicationError, ValidationFailed


class TemplateForm(forms.Form):
    name = forms.CharField(
        label=_("Template name"),
        max_length=512,
        help_text=_("Lowercase letters, digits and _ only, e.g. opening_message1."),
    )
    message_type = forms.ChoiceField(label=_("Message type"), choices=Template.MessageType.choices)


class LanguageForm(forms.Form):
    """One language's content. Buttons are typed as plain fields and become the JSON list."""

    language_code = forms.CharField(
        label=_("Language code"),
        max_length=10,
        help_text=_("e.g. id, en, en_US. The first language is the default."),
    )
    header_type = forms.ChoiceField(
        label=_("Header type"), choices=TemplateLanguage.HeaderType.choices, initial="none"
    )
    header_text = forms.CharField(
        label=_("Header text"),
        required=False,
        max_length=200,
        help_text=_("At most 60 characters and one variable, {{1}}."),
    )
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": 1024}),
        max_length=4000,
        help_text=_(
            "At most 1024 characters. Variables {{1}}, {{2}}, … numbered from 1 without gaps."
        ),
    )
    footer = forms.CharField(
        label=_("Footer"),
        required=False,
        max_length=200,
        help_text=_("At most 60 characters, no variables."),
    )
    url_button_text = forms.CharField(label=_("URL button text"), required=False, max_length=100)
    url_button_url = forms.CharField(
        label=_("URL button link"),
        required=False,
        max_length=2000,
        help_text=_("An http(s) URL; it may end in {{1}}, filled when sending."),
    )
    quick_replies = forms.CharField(
        label=_("Quick-reply buttons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line, up to 3: the button text, optionally | payload (e.g. Yes | confirm_yes)."
        ),
    )

    def content(self) -> dict:
        data = self.cleaned_data
        buttons: list[dict] = []
        if data.get("url_button_text") or data.get("url_button_url"):
            buttons.append(
                {"type": "url", "text": data["url_button_text"], "url": data["url_button_url"]}
            )
        for line in (data.get("quick_replies") or "").splitlines():
            if not line.strip():
                continue
            text, _bar, payload = line.partition("|")
            buttons.append(
                {"type": "quick_reply", "text": text.strip(), "payload": payload.strip()}
            )
        return {
            "language_code": data["language_code"],
            "header_type": data["header_type"],
            "header_text": data.get("header_text", ""),
            "body": data["body"],
            "footer": data.get("footer", ""),
            "buttons": buttons,
        }

    @staticmethod
    def initial_for(language: TemplateLanguage) -> dict:
        url = next((b for b in language.buttons if b.get("type") == "url"), None)
        replies = [b for b in language.buttons if b.get("type") == "quick_reply"]
        return {
            "language_code": language.language_code,
            "header_type": language.header_type,
            "header_text": language.header_text,
            "body": language.body,
            "footer": language.footer,
            "url_button_text": url["text"] if url else "",
            "url_button_url": url["url"] if url else "",
            "quick_replies": "\n".join(
                r["text"]
                if r.get("payload") in ("", r["text"])
                else f"{r['text']} | {r['payload']}"
                for r in replies
            ),
        }


class BaseLanguageFormSet(forms.BaseFormSet):
    """The first language form is required (min_num=1 makes it so): an empty one shows its
    own field errors. Django's "Please submit at least 1 form." would repeat them in other
    words, so the count is checked here, only when every language was deleted."""

    def clean(self) -> None:
        if any(self.errors):
            return
        if not _kept_forms(self):
            raise forms.ValidationError(
                _("A template needs at least one language."), code="too_few_forms"
            )


LanguageFormSet = forms.formset_factory(
    LanguageForm,
    formset=BaseLanguageFormSet,
    extra=1,
    min_num=1,
    validate_min=False,
    can_delete=True,
)


def _kept_forms(formset) -> list[LanguageForm]:
    """The language forms that hold a language: filled in (or loaded) and not deleted."""
    return [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None)
        and not form.cleaned_data.get("DELETE")
        and (form.has_changed() or form.initial)
    ]


def language_contents(formset) -> list[dict]:
    """The kept language forms' content, in order (the first is the default)."""
    return [form.content() for form in _kept_forms(formset)]


def show_template_error(error: ApplicationError, form: forms.Form, formset) -> bool:
    """Place a service's `languages.<i>.<field>` errors on the matching language form.

    Returns True when every message found a place; the caller hands the rest to
    `wappin_portal.ui.show_error`.
    """
    fields = getattr(error, "fields", None) if isinstance(error, ValidationFailed) else None
    if not fields:
        return False
    filled = _kept_forms(formset)
    rest: dict[str, list[str]] = {}
    for key, messages in fields.items():
        parts = key.split(".")
        if (
            parts[0] == "languages"
            and len(parts) == 3
            and parts[1].isdigit()
            and int(parts[1]) < len(filled)
        ):
            target_form, name = filled[int(parts[1])], parts[2]
            target = name if name in target_form.fields else None
            if name == "buttons":
                target = None
            for message in messages:
                target_form.add_error(target, message)
        elif key in form.fields:
            for message in messages:
                form.add_error(key, message)
        else:
            rest[key] = messages
    for messages in rest.values():
        for message in messages:
            form.add_error(None, message)
    return True


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown to the marketing team."),
    )


class KeywordForm(forms.Form):
    keyword = forms.CharField(
        label=_("Keyword"),
        max_length=100,
        help_text=_(
            "Matched case- and space-insensitively, as the whole message or its first word."
        ),
    )
    template_name = forms.CharField(label=_("Template name"), max_length=100)
    scenario = forms.ChoiceField(label=_("Scenario"), choices=ChatbotKeyword.Scenario.choices)
    response_type = forms.ChoiceField(
        label=_("Response type"), choices=ChatbotKeyword.ResponseType.choices
    )
    response_text = forms.CharField(
        label=_("Response text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4096,
    )
    response_media = forms.FileField(
        label=_("Response media"),
        required=False,
        help_text=_(
            "Image: JPG, JPEG, PNG (5 MB). Document: PDF, DOC(X), PPT(X), XLS(X) (100 MB). "
            "Audio: AAC, M4A, MP3, OGG, OPUS (16 MB)."
        ),
    )
    caption = forms.CharField(
        label=_("Caption"),
        required=False,
        max_length=1024,
        help_text=_("Image and document only."),
    )
    is_active = forms.BooleanField(label=_("Is active"), required=False, initial=True)


class ChatbotSettingsForm(forms.Form):
    default_chatbot_message = forms.CharField(
        label=_("Default chatbot message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=4096,
        help_text=_("Sent when a customer writes something that matches no keyword."),
    )
