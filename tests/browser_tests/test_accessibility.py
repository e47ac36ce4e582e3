"""Every main page, in Chromium: axe-core finds nothing serious, and a phone never scrolls sideways.

axe-core is vendored (`vendor/axe.min.js`, MPL-2.0): the check runs offline, in CI too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_tests.main_pages import LONG_NAME, logged_in_context, main_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# WCAG 2.1 A and AA plus axe's best practices; serious and critical ones fail the test.
AXE_RUN = """() => axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
}).then(result => result.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => v.impact + " " + v.id + ": " + v.help + " at "
       + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))"""
WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def _violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_violation_on_any_main_page(
    browser, live_server, project, admin_user, viewport
):
    paths = main_pages(project=project, admin_user=admin_user)
    # The portal's CSP refuses inline scripts, axe's injected one too: only this context bypasses it.
    context = logged_in_context(
        browser, live_server, admin_user, bypass_csp=True, viewport=viewport
    )
    page = context.new_page()
    found = {}
    try:
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            found[path] = _violations(page)
        # And the login page, logged out
        context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        found["/accounts/login/"] = _violations(page)
    finally:
        context.close()
    failing = [f"{path}: {error}" for path, errors in found.items() for error in errors]
    assert not failing, "\n".join(failing)


def test_no_main_page_scrolls_sideways_on_a_phone(browser, live_server, project, admin_user):
    paths = main_pages(project=project, admin_user=admin_user)
    context = logged_in_context(
        browser, live_server, admin_user, viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    too_wide = {}
    try:
        for path in paths:
            page.goto(live_server.url + path)
            scroll_width, inner_width = page.evaluate(WIDTHS)
            if scroll_width > inner_width:
                too_wide[path] = scroll_width
        # The dashboard chart's day labels stay readable (it scrolls inside its card instead)
        page.goto(f"{live_server.url}/dashboard/")
        label = page.locator(".daily-chart svg text").last
        assert label.bounding_box()["height"] >= 10
        # The contacts table holds the 120-character name, inside its card
        page.goto(f"{live_server.url}/contacts/")
        assert page.get_by_role("cell", name=LONG_NAME, exact=True).is_visible()
    finally:
        context.close()
    assert too_wide == {}


def test_the_phone_menu_opens_from_its_button(browser, live_server, project, admin_user):
    context = logged_in_context(browser, live_server, admin_user, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/dashboard/")
        toggle = page.get_by_role("button", name="Menu")
        contacts_link = page.locator("#mainnav").get_by_role("link", name="Contacts")
        # At 390 px the menu is folded behind its button
        assert toggle.is_visible() and not contacts_link.is_visible()
        assert toggle.get_attribute("aria-expanded") == "false"
        # When the button is pressed, the menu opens; a link in it leads to its page
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        contacts_link.click()
        page.wait_for_url("**/contacts/")
        # On a desktop the menu shows with no button
        page.set_viewport_size({"width": 1280, "height": 900})
        assert not toggle.is_visible()
        assert contacts_link.is_visible()
    finally:
        context.close()


def test_the_skip_link_is_the_first_stop_and_shows_when_focused(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/contacts/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    assert skip.bounding_box()["y"] >= 0  # moved into view when focused
    # Keyboard focus shows a ring
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url("**/contacts/#main")
    # And on the header's links too (another ring colour on green)
    page.goto(f"{live_server.url}/contacts/")
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('.topbar') !== null")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
