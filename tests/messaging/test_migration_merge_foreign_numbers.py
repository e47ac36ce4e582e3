"""messaging 0004: contacts the old phone rule made of foreign numbers (`+65 9123 4567` stored
as `626591234567`) are merged into the right contact, or renumbered when nothing else can
mean that number."""

import importlib
from datetime import UTC, datetime

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

import pytest

BEFORE = ("messaging", "0003_message_number_index_whole_order")
AFTER = ("messaging", "0004_merge_contacts_of_foreign_numbers")

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(target):
    """Move messaging to `target`; the models of every app as the database then has them."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    # The applied migrations of every app are exactly the database's state (a later
    # migration of another app that needs a newer messaging was unapplied with it).
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


@pytest.fixture
def old_apps():
    apps = _migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_contacts_of_foreign_numbers_are_merged_or_renumbered(old_apps):
    # Given contacts written by the old rule beside the right ones
    Project = old_apps.get_model("projects", "Project")
    Contact = old_apps.get_model("messaging", "Contact")
    ContactGroup = old_apps.get_model("messaging", "ContactGroup")
    Message = old_apps.get_model("messaging", "Message")
    Blast = old_apps.get_model("messaging", "Blast")
    project = Project.objects.create(name="Shop", client_id="0070", wappin_project_id="476")
    other_project = Project.objects.create(name="Other", client_id="0070", wappin_project_id="477")
    vip = ContactGroup.objects.create(project=project, name="VIP")
    stop = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    wrote = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    singapore = Contact.objects.create(project=project, phone_number="6591234567", name="Tan")
    singapore_wrong = Contact.objects.create(
        project=project,
        phone_number="626591234567",
        opted_out_at=stop,
        last_inbound_at=wrote,
        attributes={"city": "Singapore"},
    )
    singapore_wrong.groups.add(vip)
    blast = Blast.objects.create(
        project=project, name="May", template_name="promo", language_code="en"
    )
    both_in_blast = [
        Message.objects.create(
            project=project,
            contact=contact,
            phone_number=contact.phone_number,
            kind="hsm",
            blast=blast,
        )
        for contact in (singapore, singapore_wrong)
    ]
    old_text = Message.objects.create(
        project=project,
        contact=singapore_wrong,
        phone_number="626591234567",
        kind="text",
        text="hi",
    )
    # a UK number that is no Indonesian number at all, and no right contact beside it
    uk_wrong = Contact.objects.create(project=project, phone_number="62447400123456", name="Ann")
    uk_wrong.groups.add(vip)
    # a real Indonesian mobile, and a lone 626591234567 (a valid Indonesian line) elsewhere
    indonesian = Contact.objects.create(project=project, phone_number="6281234567001", name="Budi")
    lone = Contact.objects.create(project=other_project, phone_number="626591234567")

    # When the migration runs
    new_apps = _migrate(AFTER)

    # Then the Singapore customer is one contact with everything the wrong one had
    Contact = new_apps.get_model("messaging", "Contact")
    Message = new_apps.get_model("messaging", "Message")
    assert not Contact.objects.filter(pk=singapore_wrong.pk).exists()
    merged = Contact.objects.get(pk=singapore.pk)
    assert merged.phone_number == "6591234567"
    assert merged.name == "Tan"
    assert merged.opted_out_at == stop
    assert merged.last_inbound_at == wrote
    assert merged.attributes == {"city": "Singapore"}
    assert [group.name for group in merged.groups.all()] == ["VIP"]
    assert Message.objects.get(pk=old_text.pk).contact_id == singapore.pk
    # one message per contact and blast: the wrong number's blast message stays, contactless
    assert Message.objects.get(pk=both_in_blast[0].pk).contact_id == singapore.pk
    assert Message.objects.get(pk=both_in_blast[1].pk).contact_id is None
    # the UK contact is renumbered, groups kept
    uk = Contact.objects.get(pk=uk_wrong.pk)
    assert uk.phone_number == "447400123456"
    assert [group.name for group in uk.groups.all()] == ["VIP"]
    # what could be a real Indonesian number is left alone
    assert Contact.objects.get(pk=indonesian.pk).phone_number == "6281234567001"
    assert Contact.objects.get(pk=lone.pk).phone_number == "626591234567"

    # And running it again changes nothing
    module = importlib.import_module("messaging.migrations.0004_merge_contacts_of_foreign_numbers")
    before = sorted(Contact.objects.values_list("pk", "phone_number", "opted_out_at"))
    module.merge_contacts_of_foreign_numbers(new_apps, None)
    assert sorted(Contact.objects.values_list("pk", "phone_number", "opted_out_at")) == before
