"""Forms of the contacts pages: add/edit a contact, import a file, filter the list."""

from __future__ import annotations

from django import forms

from messaging.contacts.importing import IMPORT_MAX_BYTES
from messaging.models import Contact, ContactGroup
from projects.models import Project


class ContactForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    phone_number = forms.CharField(
        max_length=30, label="Phone number", help_text="e.g. 0812 3456 7890 or +62 812-3456-7890"
    )
    groups = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. VIP, Jakarta"
    )

    @classmethod
    def for_contact(cls, contact: Contact, data=None) -> ContactForm:
        initial = {
            "name": contact.name,
            "phone_number": contact.phone_number,
            "groups": ", ".join(group.name for group in contact.groups.all()),
        }
        return cls(data, initial=initial)


class ContactImportForm(forms.Form):
    file = forms.FileField(
        help_text="A .csv or .xlsx file whose first row names the columns: name, phone and optionally group."
    )

    def clean_file(self):
        # Refused by its size before a byte of it is read into memory.
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB: split it."
            )
        return upload


class ContactFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name or number"}),
    )
    group = forms.ModelChoiceField(
        queryset=ContactGroup.objects.none(), required=False, empty_label="All groups"
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = ContactGroup.objects.filter(project=project)
