"""The contacts list's bulk actions and a contact's deletion, in Chromium."""

import pytest

from messaging.models import Contact, ContactGroup, OptOut
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ticking_every_contact_and_adding_them_to_a_group(logged_in_page, live_server, project):
    group = ContactGroup.objects.create(project=project, name="VIP")
    contacts = [factories.ContactFactory(project=project) for _ in range(3)]
    page = logged_in_page
    page.goto(f"{live_server.url}/contacts/")
    # When the marketer ticks the head checkbox, every row is ticked
    page.check("#contact-select-all")
    assert all(box.is_checked() for box in page.locator('input[name="bulk-contacts"]').all())
    # And adding them to VIP puts all three in it
    page.select_option("#id_bulk-action", "add_to_group")
    page.select_option("#id_bulk-group", label="VIP")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_selector("text=3 contacts added to VIP.")
    assert set(group.contacts.all()) == set(contacts)


def test_deleting_a_contact_asks_first_and_keeps_the_opt_out(logged_in_page, live_server, project):
    contact = factories.ContactFactory(project=project, name="Budi", phone_number="6281200000009")
    OptOut.objects.create(project=project, phone_number=contact.phone_number)
    page = logged_in_page
    page.goto(f"{live_server.url}/contacts/{contact.pk}/edit/")
    # When the marketer dismisses the question, the contact stays
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete contact").click()
    page.wait_for_load_state("networkidle")
    assert questions and questions[0].startswith("Delete Budi (6281200000009)?")
    assert Contact.objects.filter(pk=contact.pk).exists()
    # And when they accept, it is deleted; the number stays on the suppression list
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete contact").click()
    page.wait_for_selector("text=is deleted")
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert OptOut.objects.filter(phone_number="6281200000009").exists()
