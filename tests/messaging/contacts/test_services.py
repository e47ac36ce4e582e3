"""Contact services: the number rules every path to a contact goes through."""

from __future__ import annotations

import pytest

from messaging.contacts.services import (
    contact_create,
    contact_delete,
    contact_get_or_create,
    contacts_group_add,
    contacts_group_remove,
    contacts_opt_out,
    group_names_parse,
    number_opted_out,
    opt_out_record,
)
from messaging.models import Contact, ContactGroup, OptOut
from projects.models import AuditEvent
from tests import factories
from wappin_portal.errors import NotFound, ValidationFailed

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


# --- delete, bulk actions, group names ------------------------------------------------


def test_deleting_a_contact_keeps_its_number_on_the_suppression_list(project, marketer):
    # Given a contact whose number opted out
    contact = factories.ContactFactory(project=project, phone_number="6281111111111")
    opt_out_record(project=project, phone_number=contact.phone_number)
    contact_id = contact.pk
    # When it is deleted
    contact_delete(contact=contact, actor=marketer)
    # Then the number stays on the list, the deletion is audited, and the number comes back
    # opted out when it becomes a contact again
    assert number_opted_out(project=project, phone_number="6281111111111")
    event = AuditEvent.objects.get(action="contact.delete")
    assert (event.actor, event.target) == (marketer, f"{contact_id} 6281111111111")
    again = contact_create(project=project, phone_number="6281111111111")
    assert again.opted_out_at is not None


def test_bulk_group_add_and_remove_touch_only_this_projects_contacts(project):
    vip = ContactGroup.objects.create(project=project, name="VIP")
    mine = [factories.ContactFactory(project=project) for _ in range(3)]
    mine[0].groups.add(vip)
    foreign = factories.ContactFactory(project=factories.ProjectFactory())
    ids = [contact.pk for contact in mine] + [foreign.pk]

    assert contacts_group_add(project=project, group=vip, contact_ids=ids) == 2
    assert set(vip.contacts.all()) == set(mine)
    assert not foreign.groups.exists()

    assert contacts_group_remove(project=project, group=vip, contact_ids=ids[:2]) == 2
    assert list(vip.contacts.all()) == [mine[2]]


def test_bulk_actions_refuse_another_projects_group(project):
    other_group = ContactGroup.objects.create(project=factories.ProjectFactory(), name="VIP")
    contact = factories.ContactFactory(project=project)
    with pytest.raises(NotFound):
        contacts_group_add(project=project, group=other_group, contact_ids=[contact.pk])
    with pytest.raises(NotFound):
        contacts_group_remove(project=project, group=other_group, contact_ids=[contact.pk])


def test_bulk_opt_out_goes_through_the_suppression_list_and_is_audited(project, marketer):
    already = factories.ContactFactory(project=project)
    opt_out_record(project=project, phone_number=already.phone_number)
    fresh = [factories.ContactFactory(project=project) for _ in range(2)]
    ids = [already.pk] + [contact.pk for contact in fresh]

    assert contacts_opt_out(project=project, contact_ids=ids, actor=marketer) == 2

    assert set(OptOut.objects.values_list("phone_number", flat=True)) == {
        contact.phone_number for contact in [already, *fresh]
    }
    assert set(
        OptOut.objects.filter(phone_number__in=[c.phone_number for c in fresh]).values_list(
            "source", flat=True
        )
    ) == {OptOut.Source.PERSON}
    assert Contact.objects.filter(pk__in=ids, opted_out_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(action="contact.opt_out", actor=marketer).count() == 2


@pytest.mark.parametrize(
    "text", ["VIP, Jakarta", "VIP; Jakarta", "VIP | Jakarta", " vip ;Jakarta,VIP"]
)
def test_group_names_split_on_commas_and_semicolons_alike(text):
    assert [name.lower() for name in group_names_parse(text)] == ["vip", "jakarta"]
