"""The panel in a Korean- or Japanese-speaking staff member's language, in Chromium at phone width: the
admin names the language once (on the document load), and the next page, opened from a panel link
that carries no language, still speaks it."""
from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser import accessibility_violations, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["ko", "ja"])
def test_the_panel_opens_in_the_admin_users_language_and_keeps_it(live_server, open_page, language):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    with translation.override(language):
        dashboard, settings_name, retention = (translation.gettext(w) for w in ("Dashboard", "Settings", "Retention"))
    assert dashboard != "Dashboard"
    page = open_page(f"{live_server.url}/?embedded=1&shop={shop.domain}&locale={language}"
                     f"&id_token={session_token(shop.domain)}", "phone")
    assert page.evaluate("document.documentElement.lang") == language
    assert page.get_by_role("heading", name=dashboard, exact=True).is_visible()
    assert page.get_by_role("heading", name=retention).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-dashboard-{language}-phone")
    page.get_by_role("link", name=settings_name, exact=True).click()
    page.wait_for_url("**/app/settings/**")
    assert "locale=" not in page.url  # the link names no language: the staff member's row does
    assert page.get_by_role("heading", name=settings_name, exact=True).is_visible()
    assert page.evaluate("document.documentElement.lang") == language
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-settings-{language}-phone")
