"""Forms of the test send: pick an approved template and language, then fill its values.

`TemplatePickForm` is the blast form's first step too.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.models import Project
from templates_app.models import Template, TemplateLanguage


class TemplatePickForm(forms.Form):
    """Which approved template and language to try (a GET form: the page reloads with its fields)."""

    template = forms.ChoiceField(required=False)
    language = forms.ChoiceField(required=False)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.templates = list(
            Template.objects.filter(project=project, status=Template.Status.APPROVED)
            .prefetch_related("languages")
            .order_by("name")
        )
        self.fields["template"].choices = [("", _("Choose a template"))] + [
            (t.name, t.name) for t in self.templates
        ]
        chosen = self.template_chosen()
        languages = list(chosen.languages.all()) if chosen else []
        self.fields["language"].choices = [
            (
                lang.language_code,
                _("%(code)s (default)") % {"code": lang.language_code}
                if i == 0
                else lang.language_code,
            )
            for i, lang in enumerate(languages)
        ]

    def template_chosen(self) -> Template | None:
        name = (self.data.get("template") or self.initial.get("template") or "").strip()
        return next((t for t in self.templates if t.name == name), None)

    def language_chosen(self) -> TemplateLanguage | None:
        template = self.template_chosen()
        if template is None:
            return None
        languages = list(template.languages.all())
        code = (self.data.get("language") or "").strip()
        return next((lang for lang in languages if lang.language_code == code), None) or (
            languages[0] if languages else None
        )


class TrySendForm(forms.Form):
    """The fields a send of one template language needs, generated from its placeholders."""

    recipient_number = forms.CharField(
        max_length=30,
        label=_("Recipient number"),
        help_text=_("Your own WhatsApp number, e.g. 0812 3456 7890"),
    )

    def __init__(self, *args, language: TemplateLanguage, **kwargs):
        super().__init__(*args, **kwargs)
        self.language = language
        if language.header_has_param:
            self.fields["header_param"] = forms.CharField(
                max_length=60,
                label=_("Header {{1}}"),
                help_text=gettext("Header: %(text)s") % {"text": language.header_text},
            )
        if language.header_is_media:
            accept = (
                ".jpg,.jpeg,.png"
                if language.header_type == "image"
                else ".pdf,.doc,.docx,.ppt,.pptx,.xls,.xlsx"
            )
            self.fields["media"] = forms.FileField(
                label=gettext("Header %(type)s")
                % {"type": str(language.get_header_type_display()).lower()},
                widget=forms.ClearableFileInput(attrs={"accept": accept}),
            )
        for number in range(1, language.body_param_count + 1):
            self.fields[f"param_{number}"] = forms.CharField(
                max_length=1024,
                label=gettext("Body %(placeholder)s") % {"placeholder": f"{{{{{number}}}}}"},
            )
        if language.url_button_has_param:
            url = next((b.get("url", "") for b in language.buttons if b.get("type") == "url"), "")
            self.fields["button_url"] = forms.CharField(
                max_length=2000,
                label=_("URL button {{1}}"),
                help_text=gettext("Button URL: %(url)s") % {"url": url},
            )

        quick_replies = [b for b in language.buttons if b.get("type") == "quick_reply"]
        for number, button in enumerate(quick_replies, start=1):
            self.fields[f"reply_{number}"] = forms.CharField(
                max_length=256,
                required=False,
                label=gettext("Quick reply “%(text)s” payload")
                % {"text": button.get("text", number)},
                help_text=_("Optional: what the callback reports when the customer taps it."),
            )

    def param_fields(self):
        return [self[name] for name in self.fields if name.startswith("param_")]

    def send_arguments(self) -> dict:
        """The keyword arguments of message_send_hsm from the cleaned fields."""
        data = self.cleaned_data
        params = {
            name.removeprefix("param_"): data[name]
            for name in self.fields
            if name.startswith("param_")
        }
        return {
            "phone_number": data["recipient_number"],
            "template_name": self.language.template.name,
            "language_code": self.language.language_code,
            "params": params,
            "header_param": data.get("header_param") or None,
            "button_url": data.get("button_url") or None,
            "media": data.get("media"),
            "reply_payloads": {
                name.removeprefix("reply_"): data[name]
                for name in self.fields
                if name.startswith("reply_") and data.get(name)
            }
            or None,
        }

    # The services name fields as the API does; map them back to this form's fields.
    ERROR_FIELD_ALIASES = {
        "phone_number": "recipient_number",
        "number": "recipient_number",
        "header": "header_param",
        "button": "button_url",
    }

    def error_fields(self, fields: dict[str, list[str]]) -> dict[str, list[str]]:
        mapped: dict[str, list[str]] = {}
        for name, messages in fields.items():
            target = self.ERROR_FIELD_ALIASES.get(name, name)
            if target.startswith("params.") or target.isdigit():
                target = "param_" + target.removeprefix("params.")
            mapped.setdefault(target, []).extend(messages)
        return mapped
