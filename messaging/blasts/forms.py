"""The blast form: a name, an audience, and where each of the template's variables comes from."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging.models import Blast, ContactGroup
from projects.models import Project
from templates_app.models import TemplateLanguage

SOURCE_CHOICES = Blast.ValueSource.choices


@dataclass(frozen=True)
class Slot:
    """One variable of the template and its two fields: where the value comes from, and the text/attribute."""

    label: str
    hint: str
    source: forms.BoundField
    value: forms.BoundField


class BlastForm(forms.Form):
    """Generated from the chosen template language, like the test send's form."""

    name = forms.CharField(
        max_length=120, label=_("Name"), help_text=_("For you: e.g. “June promo, Jakarta VIPs”.")
    )
    group = forms.ModelChoiceField(
        queryset=ContactGroup.objects.none(),
        required=False,
        empty_label=_("All contacts"),
        label=_("Audience"),
    )
    scheduled_at = forms.DateTimeField(
        required=False,
        label=_("Send at"),
        help_text=_(
            "Optional: a date and time in the portal's time zone. Starting it then schedules it."
        ),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=[
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
        ],
    )

    def __init__(
        self,
        *args,
        project: Project,
        language: TemplateLanguage,
        blast: Blast | None = None,
        **kwargs,
    ):
        if blast is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(blast)
        super().__init__(*args, **kwargs)
        self.language = language
        self.fields["group"].queryset = ContactGroup.objects.filter(project=project)
        self.slot_names: list[tuple[str, str, str]] = []
        if language.header_has_param:
            self._add_slot(
                "header_param",
                gettext("Header {{1}}"),
                gettext("Header: %(text)s") % {"text": language.header_text},
            )
        for number in range(1, language.body_param_count + 1):
            self._add_slot(
                f"param_{number}",
                gettext("Body %(placeholder)s") % {"placeholder": f"{{{{{number}}}}}"},
                "",
            )
        if language.url_button_has_param:
            url = next((b.get("url", "") for b in language.buttons if b.get("type") == "url"), "")
            self._add_slot(
                "button_url",
                gettext("URL button {{1}}"),
                gettext("Button URL: %(url)s") % {"url": url},
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
                help_text=_("The same file goes to every contact."),
                widget=forms.ClearableFileInput(attrs={"accept": accept}),
            )

    @staticmethod
    def initial_from(blast: Blast) -> dict:
        """A draft's values, to edit it in the same form."""
        initial = {"name": blast.name, "group": blast.group_id, "scheduled_at": blast.scheduled_at}
        slots = {f"param_{number}": mapping for number, mapping in blast.params.items()}
        slots.update({"header_param": blast.header_param, "button_url": blast.button_url})
        for name, mapping in slots.items():
            if mapping:
                initial[f"{name}_source"] = mapping.get("source")
                initial[name] = mapping.get("value", "")
        return initial

    def _add_slot(self, name: str, label: str, hint: str) -> None:
        self.fields[f"{name}_source"] = forms.ChoiceField(
            choices=SOURCE_CHOICES,
            label=gettext("%(label)s from") % {"label": label},
            initial=Blast.ValueSource.FIXED,
        )
        self.fields[name] = forms.CharField(
            max_length=1024,
            required=False,
            label=label,
            widget=forms.TextInput(
                attrs={"placeholder": _("Text, or the attribute's name (e.g. city)")}
            ),
        )
        self.slot_names.append((name, label, hint))

    def slots(self) -> list[Slot]:
        return [
            Slot(label=label, hint=hint, source=self[f"{name}_source"], value=self[name])
            for name, label, hint in self.slot_names
        ]

    def _mapping(self, name: str, data) -> dict:
        return {"source": data.get(f"{name}_source") or "", "value": (data.get(name) or "").strip()}

    def mappings(self, data=None) -> dict:
        """params / header_param / button_url as `blast_create` takes them, from cleaned or raw data."""
        data = data if data is not None else self.cleaned_data
        return {
            "params": {
                name.removeprefix("param_"): self._mapping(name, data)
                for name, _label, _hint in self.slot_names
                if name.startswith("param_")
            },
            "header_param": self._mapping("header_param", data)
            if self.language.header_has_param
            else None,
            "button_url": self._mapping("button_url", data)
            if self.language.url_button_has_param
            else None,
        }

    def create_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "group": data.get("group"),
            "template_name": self.language.template.name,
            "language_code": self.language.language_code,
            "media": data.get("media"),
            "scheduled_at": data.get("scheduled_at"),
            **self.mappings(),
        }
