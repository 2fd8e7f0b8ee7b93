"""The merchant's path in a real browser: devstore's admin frames Advocate, App Bridge hands out tokens."""
from __future__ import annotations

import pytest

from tests.browser import WIDTHS, accessibility_violations, screenshot
from tests.e2e.conftest import DEMO

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_install_from_the_admin_opens_the_panel_in_its_frame(stack, browser, width):
    store = stack.store
    if store.store.shop(DEMO)["app"]["installed"]:
        store.uninstall(DEMO)
        assert store.wait_for_webhooks(20)
    context = browser.new_context(viewport=WIDTHS[width])
    try:
        page = context.new_page()
        page.goto(f"{store.url}/shops/{DEMO}/admin")
        page.get_by_role("button", name="Install Advocate").click()
        page.wait_for_url("**/admin/apps/advocate")
        frame = page.frame_locator("#app-frame")
        frame.get_by_role("heading", name="Dashboard").wait_for(timeout=30000)
        assert store.store.shop(DEMO)["app"]["access_token"]  # the panel's first load exchanged its token

        # Navigating inside the panel asks the admin for a fresh session token (App Bridge's idToken()).
        frame.get_by_role("link", name="Settings").click()
        frame.get_by_role("heading", name="Settings").wait_for(timeout=30000)
        screenshot(page, f"devstore-admin-advocate-{width}")
        inner = next(f for f in page.frames if f.url.startswith(stack.app_url))
        assert "/app/settings/" in inner.url
        assert accessibility_violations(inner) == []
    finally:
        context.close()


def test_a_stale_panel_url_is_patched_with_a_fresh_token_by_app_bridge(installed, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{installed.store.url}/shops/{DEMO}/admin/apps/advocate")
        frame = page.frame_locator("#app-frame")
        frame.get_by_role("heading", name="Dashboard").wait_for(timeout=30000)
        inner = next(f for f in page.frames if f.url.startswith(installed.app_url))
        # The admin reloads the app without a token: the patch page gets one from App Bridge and comes back.
        inner.goto(f"{installed.app_url}/app/activity/?embedded=1&shop={DEMO}&host=x")
        frame.get_by_role("heading", name="Activity").wait_for(timeout=30000)
        inner = next(f for f in page.frames if f.url.startswith(installed.app_url))
        assert "id_token=" in inner.url and "/app/activity/" in inner.url
    finally:
        context.close()
