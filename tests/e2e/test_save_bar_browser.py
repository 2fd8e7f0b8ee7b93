"""Shopify's save bar, toasts and leave confirmation around the panel, in a real browser.

devstore's admin frames Advocate and, like Shopify's admin, draws these outside the app's
iframe from what the app asks of its App Bridge (devstore/static/app-bridge.js).
"""
from __future__ import annotations

import pytest

from tests.browser import WIDTHS, accessibility_violations, screenshot
from tests.e2e.conftest import DEMO

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOLD = "Days to hold a reward after fulfilment"


@pytest.fixture
def admin(installed, browser):
    """open(width) -> devstore's admin page with the panel's referral settings in its frame."""
    contexts = []

    def open_(width: str):
        context = browser.new_context(viewport=WIDTHS[width])
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.goto(f"{installed.store.url}/shops/{DEMO}/admin/apps/advocate/app/referrals/settings/")
        page.frame_locator("#app-frame").get_by_role("heading", name="Referral settings").wait_for(timeout=30000)
        return page

    yield open_
    for context in contexts:
        context.close()


def _hold_days(stack) -> int:
    return stack.db("SELECT hold_days FROM referrals_programsettings")[0][0]


def _panel(page, stack):
    return next(f for f in page.frames if f.url.startswith(stack.app_url))


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_changed_setting_shows_the_save_bar_discard_restores_it_and_save_saves_with_a_toast(
        installed, admin, width):
    page = admin(width)
    frame = page.frame_locator("#app-frame")
    bar = page.get_by_role("region", name="Unsaved changes")
    before = _hold_days(installed)
    assert bar.is_hidden()

    frame.get_by_label(HOLD).fill("45")
    bar.wait_for()
    assert bar.bounding_box()["y"] == 0  # over the admin's top bar, outside the app's frame
    screenshot(page, f"panel-save-bar-{width}")
    assert accessibility_violations(page) == []

    bar.get_by_role("button", name="Discard").click()
    bar.wait_for(state="hidden")
    assert frame.get_by_label(HOLD).input_value() == str(before)

    saved = {"desktop": 21, "phone": 14}[width]
    frame.get_by_label(HOLD).fill(str(saved))
    bar.get_by_role("button", name="Save").click()
    toast = page.locator(".toast", has_text="Referral settings saved.")
    toast.wait_for(timeout=30000)
    assert bar.is_hidden()
    assert _hold_days(installed) == saved
    assert frame.get_by_label(HOLD).input_value() == str(saved)
    # The page's own notice stays for screen readers, out of sight while the toast says it.
    notice = frame.get_by_role("status").filter(has_text="Referral settings saved.")
    assert notice.evaluate("n => n.classList.contains('visually-hidden')")
    screenshot(page, f"panel-toast-{width}")
    assert accessibility_violations(_panel(page, installed)) == []
    assert page.console_errors == []


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_an_invalid_value_saved_from_the_bar_is_refused_and_its_field_scrolled_into_view(installed, admin, width):
    page = admin(width)
    frame = page.frame_locator("#app-frame")
    before = _hold_days(installed)
    frame.get_by_label(HOLD).fill("400")
    page.get_by_role("region", name="Unsaved changes").get_by_role("button", name="Save").click()
    page.locator(".toast-error", has_text="Nothing was saved").wait_for(timeout=30000)

    field = frame.get_by_label(HOLD)
    assert field.get_attribute("aria-invalid") == "true"
    assert "less than or equal to 365" in frame.locator("#id_hold_days-error").inner_text()
    panel = _panel(page, installed)
    assert panel.evaluate("window.scrollY") > 0
    assert field.evaluate("f => { const r = f.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    assert frame.get_by_role("alert").filter(has_text="Nothing was saved").is_visible()  # an error stays in view
    assert _hold_days(installed) == before
    screenshot(page, f"panel-save-error-{width}")
    assert accessibility_violations(panel) == []


def test_leaving_with_unsaved_changes_asks_first(installed, admin):
    page = admin("desktop")
    frame = page.frame_locator("#app-frame")
    frame.get_by_label(HOLD).fill("60")
    frame.get_by_role("link", name="← Referrals").click()
    dialog = page.get_by_role("dialog", name="Leave page with unsaved changes?")
    dialog.wait_for()
    screenshot(page, "panel-leave-confirmation-desktop")
    assert accessibility_violations(page) == []

    dialog.get_by_role("button", name="Stay").click()
    assert dialog.is_hidden()
    assert frame.get_by_label(HOLD).input_value() == "60"  # still here, the change kept

    frame.get_by_role("link", name="← Referrals").click()
    dialog.get_by_role("button", name="Leave page").click()
    frame.get_by_role("heading", name="Referrals", exact=True).wait_for(timeout=30000)
    assert page.get_by_role("region", name="Unsaved changes").is_hidden()
    assert _hold_days(installed) != 60
