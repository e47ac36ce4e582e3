import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_logs_in_and_sees_the_dashboard(page, live_server, admin_user, project):
    # Given the login page
    page.goto(f"{live_server.url}/accounts/login/")
    # When the user types their credentials
    admin_user.set_password("correct horse battery")
    admin_user.save()
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    # Then the dashboard of their project shows
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.locator("h1").first.inner_text().startswith(project.name)
    assert page.locator(".stat").count() >= 4
