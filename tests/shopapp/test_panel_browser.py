from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_dashboard_shows_retention_figures_and_a_chart(live_server, open_page, width, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com", currency="EUR")
    page = open_page(f"{live_server.url}/?embedded=1&shop={shop.domain}&id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.get_by_role("heading", name="Retention").is_visible()
    assert page.get_by_role("img", name="Orders per day").is_visible()
    page.get_by_label("Date range").select_option("7")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**range=7**")
    assert page.get_by_label("Date range").input_value() == "7"
    # Nothing overflows sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"panel-dashboard-{width}")
    assert accessibility_violations(page) == []


def test_panel_links_carry_a_fresh_token(live_server, open_page, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    page = open_page(f"{live_server.url}/?embedded=1&shop={shop.domain}&id_token={session_token(shop.domain)}")
    page.get_by_role("link", name="Privacy").click()
    page.wait_for_url("**/app/privacy/**")
    assert page.get_by_role("heading", name="Privacy requests").is_visible()
