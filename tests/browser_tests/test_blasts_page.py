import pytest

from messaging.models import Blast, ContactGroup
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_blast_preview_follows_the_mapping_as_it_is_typed(logged_in_page, live_server, project):
    # Given an approved template and a group whose first member is Budi from Bandung
    template = factories.TemplateFactory(project=project, name="weekend_promo")
    factories.TemplateLanguageFactory(template=template, body="Hi {{1}}, {{2}} off this weekend!")
    group = ContactGroup.objects.create(project=project, name="VIP")
    factories.ContactFactory(
        project=project, name="Budi", attributes={"city": "Bandung"}
    ).groups.add(group)
    page = logged_in_page
    page.goto(f"{live_server.url}/blasts/new/?template=weekend_promo")
    # When the marketer maps {{1}} to the contact's name and {{2}} to the city attribute
    page.fill("#id_name", "Weekend in Bandung")
    page.select_option("#id_group", label="VIP")
    page.select_option("#id_param_1_source", "name")
    page.select_option("#id_param_2_source", "attribute")
    page.fill("#id_param_2", "city")
    # Then the preview shows Budi's message without a reload
    # (a locator, not a JS predicate: the page's CSP forbids the eval a predicate string needs)
    page.locator("#blast-preview", has_text="Hi Budi, Bandung off this weekend!").wait_for()
    # And saving makes a draft whose page offers to start it
    page.click("button.primary")
    page.wait_for_selector("text=Start blast (1 contacts)")
    assert Blast.objects.get().params == {
        "1": {"source": "name", "value": ""},
        "2": {"source": "attribute", "value": "city"},
    }
