from __future__ import annotations

import pytest

from shopapp.registry import panel_pages
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
    assert page.get_by_role("figure", name="Orders per day").is_visible()
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
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/app/settings/**")
    page.get_by_role("link", name="Open privacy").click()
    page.wait_for_url("**/app/privacy/**")
    assert page.get_by_role("heading", name="Privacy", exact=True).is_visible()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_erasing_a_customer_from_the_privacy_page(live_server, open_page, width, db):
    from shopapp.models import Customer
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    Customer.objects.create(shop=shop, shopify_id=5, email="maya@example.com", first_name="Maya")
    page = open_page(f"{live_server.url}/app/privacy/?id_token={session_token(shop.domain)}", width)
    page.get_by_label("Customer's email address").fill("maya@example.com")
    page.get_by_role("button", name="Erase customer data").click()
    page.wait_for_load_state()
    assert page.get_by_text("Tick the box to confirm").is_visible()
    assert page.get_by_label("Customer's email address").input_value() == "maya@example.com"  # input kept
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Erase customer data").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert Customer.objects.get(shopify_id=5).email == ""
    screenshot(page, f"panel-privacy-{width}")
    assert accessibility_violations(page) == []


def _page_name(path: str) -> str:
    return path.strip("/").replace("/", "-") or "dashboard"


@pytest.mark.parametrize("path", panel_pages(), ids=_page_name)
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_panel_page_renders_accessibly(live_server, open_page, width, path, db):
    """Each page the navigation or Settings links to, as a new merchant first sees it (empty states)."""
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    page = open_page(f"{live_server.url}{path}?id_token={session_token(shop.domain)}", width)
    assert page.locator("h1").count() == 1, "one page heading"
    assert page.locator("h1").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing overflows sideways"
    screenshot(page, f"panel-{_page_name(path)}-{width}")
    assert accessibility_violations(page) == []


def test_on_a_phone_the_tab_bar_scrolls_to_the_current_tab_and_shows_there_is_more(live_server, open_page, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    page = open_page(f"{live_server.url}/app/settings/?id_token={session_token(shop.domain)}", "phone")
    bar = page.locator("nav.nav")
    assert bar.evaluate("b => b.scrollWidth > b.clientWidth")  # more tabs than fit: it scrolls sideways
    current = page.locator('.nav [aria-current="page"]')
    box, frame = current.bounding_box(), bar.bounding_box()
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]  # Settings, in view
    assert bar.evaluate("b => b.scrollLeft") > 0  # ...so tabs lie to the left now: the cue shows there
    assert "radial-gradient" in bar.evaluate("b => getComputedStyle(b).backgroundImage")
    screenshot(page, "panel-tabs-phone")
