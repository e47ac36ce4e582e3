"""The contacts pages' groups page, a contact's deletion and the list's bulk actions."""

from __future__ import annotations

import pytest

from messaging.models import Blast, Contact, ContactGroup, OptOut
from projects.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer_client(client, project):
    developer = factories.MembershipFactory(project=project, role=Membership.Role.DEVELOPER).user
    client.force_login(developer)
    return client


# --- groups -----------------------------------------------------------------------------


def test_a_marketer_creates_renames_and_deletes_a_group(marketer_client, project):
    # Given an empty groups page
    page = marketer_client.get("/contacts/groups/").content.decode()
    assert "No groups yet" in page
    # When the marketer creates a group
    response = marketer_client.post("/contacts/groups/new/", {"name": "  VIP   Jakarta "})
    assert response.status_code == 302
    group = ContactGroup.objects.get(project=project)
    assert group.name == "VIP Jakarta"
    # ... renames it
    factories.ContactFactory(project=project).groups.add(group)
    marketer_client.post(f"/contacts/groups/{group.pk}/rename/", {"name": "VIP"})
    group.refresh_from_db()
    assert group.name == "VIP"
    # Then the page lists it with its contact count and a confirmation on delete
    page = marketer_client.get("/contacts/groups/").content.decode()
    assert f'href="/contacts/?group={group.pk}">VIP</a>' in page
    assert "<td>1</td>" in page
    assert "Delete the group VIP? Its 1 contact stays, without this group." in page
    # And deleting it keeps its contact
    marketer_client.post(f"/contacts/groups/{group.pk}/delete/")
    assert not ContactGroup.objects.exists()
    assert Contact.objects.filter(project=project).count() == 1


def test_a_taken_or_empty_group_name_is_refused_on_the_page(marketer_client, project):
    ContactGroup.objects.create(project=project, name="VIP")
    other = ContactGroup.objects.create(project=project, name="Jakarta")

    response = marketer_client.post("/contacts/groups/new/", {"name": "vip"})
    assert response.status_code == 400
    assert "already has a group named" in response.content.decode()

    response = marketer_client.post(f"/contacts/groups/{other.pk}/rename/", {"name": "VIP"})
    assert response.status_code == 400
    assert response.content.decode().count("already has a group named") == 1
    other.refresh_from_db()
    assert other.name == "Jakarta"

    response = marketer_client.post("/contacts/groups/new/", {"name": ""})
    assert response.status_code == 400
    assert ContactGroup.objects.count() == 2


def test_a_group_a_blast_went_to_is_kept(marketer_client, project):
    group = ContactGroup.objects.create(project=project, name="VIP")
    Blast.objects.create(project=project, name="Promo", template_name="promo", group=group)
    response = marketer_client.post(f"/contacts/groups/{group.pk}/delete/", follow=True)
    assert "it is kept so their audience stays known" in response.content.decode()
    assert ContactGroup.objects.filter(pk=group.pk).exists()


def test_a_developer_reads_the_groups_but_may_not_change_them(developer_client, project):
    mine = ContactGroup.objects.create(project=project, name="Mine")
    page = developer_client.get("/contacts/groups/").content.decode()
    assert "Mine" in page and "Create group" not in page
    assert developer_client.post(f"/contacts/groups/{mine.pk}/delete/").status_code == 403
    assert developer_client.post("/contacts/groups/new/", {"name": "x"}).status_code == 403
    assert ContactGroup.objects.filter(project=project).count() == 1


def test_another_projects_group_is_not_found(marketer_client):
    foreign = ContactGroup.objects.create(project=factories.ProjectFactory(), name="Theirs")
    assert marketer_client.post(f"/contacts/groups/{foreign.pk}/delete/").status_code == 404
    response = marketer_client.post(f"/contacts/groups/{foreign.pk}/rename/", {"name": "x"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


# --- delete a contact -------------------------------------------------------------------


def test_deleting_a_contact_from_its_page_keeps_the_opt_out(marketer_client, project):
    contact = factories.ContactFactory(project=project, name="Budi", phone_number="6281200000001")
    marketer_client.post(f"/contacts/{contact.pk}/opt-out/")
    page = marketer_client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert "Delete Budi (6281200000001)? Its name, groups and attributes are lost" in page

    response = marketer_client.post(f"/contacts/{contact.pk}/delete/", follow=True)

    assert "is deleted" in response.content.decode()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert OptOut.objects.filter(project=project, phone_number="6281200000001").exists()


def test_another_projects_contact_cannot_be_deleted(marketer_client):
    foreign = factories.ContactFactory(project=factories.ProjectFactory())
    assert marketer_client.post(f"/contacts/{foreign.pk}/delete/").status_code == 404
    assert marketer_client.get(f"/contacts/{foreign.pk}/delete/").status_code == 405
    assert Contact.objects.filter(pk=foreign.pk).exists()


# --- bulk actions -----------------------------------------------------------------------


def test_bulk_actions_on_the_ticked_contacts(marketer_client, project, marketer):
    vip = ContactGroup.objects.create(project=project, name="VIP")
    contacts = [factories.ContactFactory(project=project) for _ in range(3)]
    ticked = [contacts[0].pk, contacts[1].pk]
    page = marketer_client.get("/contacts/").content.decode()
    assert f'name="bulk-contacts" value="{contacts[0].pk}"' in page

    # Add to a group, back on the list as it was filtered
    response = marketer_client.post(
        "/contacts/bulk/",
        {
            "bulk-contacts": ticked,
            "bulk-action": "add_to_group",
            "bulk-group": vip.pk,
            "next_query": "q=a",
        },
    )
    assert response["Location"] == "/contacts/?q=a"
    assert set(vip.contacts.values_list("pk", flat=True)) == set(ticked)
    page = marketer_client.get("/contacts/").content.decode()
    assert "2 contacts added to VIP." in page

    # Remove one from it
    marketer_client.post(
        "/contacts/bulk/",
        {"bulk-contacts": ticked[:1], "bulk-action": "remove_from_group", "bulk-group": vip.pk},
    )
    assert list(vip.contacts.values_list("pk", flat=True)) == ticked[1:]

    # Opt two out, audited as the marketer
    response = marketer_client.post(
        "/contacts/bulk/", {"bulk-contacts": ticked, "bulk-action": "opt_out"}, follow=True
    )
    assert "2 contacts opted out of marketing." in response.content.decode()
    assert OptOut.objects.filter(project=project, source=OptOut.Source.PERSON).count() == 2
    assert Contact.objects.get(pk=contacts[2].pk).opted_out_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "opt_out"}, "Tick at least one contact first."),
        ({"action": "add_to_group", "contacts": "{contact}"}, "Choose the group."),
        ({"action": "opt_out", "contacts": "{foreign}"}, "Select a valid choice."),
        ({"action": "explode", "contacts": "{contact}"}, "Select a valid choice."),
    ],
)
def test_a_bulk_action_without_what_it_needs_changes_nothing(
    marketer_client, project, data, message
):
    contact = factories.ContactFactory(project=project)
    foreign = factories.ContactFactory(project=factories.ProjectFactory())
    data = {
        key: value.format(contact=contact.pk, foreign=foreign.pk) for key, value in data.items()
    }
    data = {f"bulk-{key}": value for key, value in data.items()}
    response = marketer_client.post("/contacts/bulk/", data, follow=True)
    assert message in response.content.decode()
    assert not OptOut.objects.exists()
    assert not ContactGroup.objects.filter(contacts__isnull=False).exists()


def test_a_developer_sees_no_bulk_actions_and_may_not_post_them(developer_client, project):
    contact = factories.ContactFactory(project=project)
    page = developer_client.get("/contacts/").content.decode()
    assert 'name="bulk-contacts"' not in page
    developer_client.post(
        "/contacts/bulk/", {"bulk-contacts": [contact.pk], "bulk-action": "opt_out"}
    )
    assert not OptOut.objects.exists()


def test_the_contact_form_splits_groups_on_semicolons_too(marketer_client, project):
    marketer_client.post(
        "/contacts/new/", {"phone_number": "081234567890", "name": "Sari", "groups": "VIP; Jakarta"}
    )
    contact = Contact.objects.get(project=project)
    assert sorted(contact.groups.values_list("name", flat=True)) == ["Jakarta", "VIP"]
