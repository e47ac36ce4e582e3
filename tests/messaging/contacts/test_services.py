"""Contact services: the number rules every path to a contact goes through."""

from __future__ import annotations

import pytest

from messaging.contacts.services import contact_get_or_create
from messaging.models import Contact
from wappin_portal.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_contact_get_or_create_normalises_the_number_and_reuses_the_contact(project):
    first = contact_get_or_create(project=project, phone_number="0812-3456-7890", name="Sari")
    again = contact_get_or_create(project=project, phone_number="+62 812 3456 7890")
    assert first.pk == again.pk
    assert again.phone_number == "6281234567890"
    assert again.name == "Sari"


def test_contact_get_or_create_refuses_an_invalid_number(project):
    with pytest.raises(ValidationFailed) as error:
        contact_get_or_create(project=project, phone_number="12ab")
    assert error.value.code == "phone_invalid"
    assert not Contact.objects.exists()
