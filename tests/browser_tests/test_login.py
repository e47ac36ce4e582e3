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
    # ...a new project's: what to do first, instead of figures
    assert page.get_by_text("Nothing sent yet").is_visible()


def test_a_user_sets_up_two_factor_then_logs_in_with_the_apps_code(
    page, live_server, admin_user, project
):
    from django_otp.oath import totp

    from projects.models import AuthenticatorDevice

    def code(device, steps_ahead=0):
        device.refresh_from_db()
        return f"{totp(device.bin_key, device.step, device.t0 - steps_ahead * device.step, device.digits):06d}"

    admin_user.set_password("correct horse battery")
    admin_user.save()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    # Given the set-up page, its QR code drawn under the page's Content-Security-Policy
    page.goto(f"{live_server.url}/accounts/two-factor/")
    qr = page.locator("img.qr-code")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    device = AuthenticatorDevice.objects.get(user=admin_user, confirmed=False)
    page.fill("#id_token", code(device))
    page.click("button[type=submit].primary")
    assert page.locator(".backup-codes li").count() == 10
    # When they log out and in again
    page.click("text=Log out")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    # Then the code is asked, and the app's next code lets them in
    page.wait_for_url(f"{live_server.url}/accounts/login/code/")
    page.fill("#id_token", code(device, steps_ahead=1))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.locator("h1").first.inner_text().startswith(project.name)
