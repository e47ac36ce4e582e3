"""Forms of the contacts pages: add/edit a contact, import a file, filter the list."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from messaging.contacts.importing import IMPORT_MAX_BYTES
from messaging.models import Contact, ContactGroup
from projects.models import Project


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    phone_number = forms.CharField(
        max_length=30,
        label=_("Phone number"),
        help_text=_("e.g. 0812 3456 7890 or +62 812-3456-7890"),
    )
    groups = forms.CharField(
        label=_("Groups"),
        max_length=500,
        required=False,
        help_text=_("Separated by commas or semicolons, e.g. VIP, Jakarta"),
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
        label=_("File"),
        help_text=_(
            "A .csv or .xlsx file whose first row names the columns: name, phone and optionally "
            "group (several groups separated by commas or semicolons)."
        ),
    )

    def clean_file(self):
        # Refused by its size before a byte of it is read into memory.
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB: split it.")
                % {"size": IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class ContactFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label=_("Search"),
        widget=forms.TextInput(attrs={"placeholder": _("Name or number")}),
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=ContactGroup.objects.none(),
        required=False,
        empty_label=_("All groups"),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = ContactGroup.objects.filter(project=project)


class GroupForm(forms.Form):
    """Create or rename a group (the name rules are `groups._name_clean`'s)."""

    name = forms.CharField(label=_("Group name"), max_length=200)


class ContactBulkForm(forms.Form):
    """An action on the contacts ticked in the list (prefixed: the filter form has a group too)."""

    PREFIX = "bulk"

    ADD_TO_GROUP = "add_to_group"
    REMOVE_FROM_GROUP = "remove_from_group"
    OPT_OUT = "opt_out"

    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        error_messages={"required": _("Tick at least one contact first.")},
    )
    action = forms.ChoiceField(
        label=_("With the selected contacts"),
        choices=[
            (ADD_TO_GROUP, _("Add to group")),
            (REMOVE_FROM_GROUP, _("Remove from group")),
            (OPT_OUT, _("Opt out of marketing")),
        ],
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=ContactGroup.objects.none(),
        required=False,
        empty_label=_("(choose a group)"),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, prefix=self.PREFIX, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.filter(project=project)
        self.fields["group"].queryset = ContactGroup.objects.filter(project=project)

    def clean(self):
        data = super().clean()
        if data.get("action") in (self.ADD_TO_GROUP, self.REMOVE_FROM_GROUP) and not data.get(
            "group"
        ):
            self.add_error("group", _("Choose the group."))
        return data
