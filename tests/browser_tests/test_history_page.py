import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_history_shows_a_sent_message_and_opens_its_detail(logged_in_page, live_server, project):
    # Given a template message that was read
    factories.MessageFactory(
        project=project,
        kind="hsm",
        template_name="order_update",
        status="read",
        phone_number="6281234567001",
        params={"1": "Budi"},
    )
    page = logged_in_page
    # When the user opens the history
    page.goto(f"{live_server.url}/history/")
    # Then the row is visible with its status badge
    row = page.locator("table.history tbody tr").first
    assert row.is_visible()
    assert "6281234567001" in row.inner_text()
    assert row.locator(".badge-read").inner_text() == "Read"
    # And its detail page shows the timeline and the params sent
    row.locator("a").first.click()
    page.wait_for_selector("h1 code")
    assert "order_update" in page.locator("dl.payload").inner_text()
    assert "Budi" in page.locator("dl.payload").inner_text()
