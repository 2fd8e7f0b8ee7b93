"""The Order history page in a real browser: a running import's progress bar follows the import
without a reload, Cancel stops it, and Shopify's optional permission is asked for through App
Bridge when the admin offers it. Phone and desktop widths, axe clean."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopapp import history
from shopapp.models import BulkOperation, HistoryImport
from tests.browser import APP_BRIDGE_STUB, WIDTHS, accessibility_violations, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _running_import(shop) -> HistoryImport:
    operation = BulkOperation.objects.create(shop=shop, purpose=history.PURPOSE, kind=BulkOperation.Kind.QUERY,
                                             status=BulkOperation.Status.DONE, object_count=12_000)
    return HistoryImport.objects.create(  # 12 months asked, 60 days given: no read_all_orders
        shop=shop, months=12, since=timezone.now() - timedelta(days=60), capped=True, phase=HistoryImport.Phase.ORDERS,
        operation=operation, rows_done=4_800, customers_new=3_912, orders_new=4_800,
        phase_started_at=timezone.now() - timedelta(minutes=1), started_at=timezone.now() - timedelta(minutes=2))


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_progress_bar_follows_the_import_and_cancel_stops_it(live_server, open_page, width, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com", scopes="read_orders,read_customers,read_products")
    row = _running_import(shop)
    page = open_page(f"{live_server.url}/app/history/?id_token={session_token(shop.domain)}", width)
    bar = page.get_by_role("progressbar")
    assert page.get_by_role("heading", name="Importing your history").is_visible()
    assert bar.is_visible() and bar.get_attribute("value") == "48"  # customers 20 + 40% of the orders' 70
    assert page.get_by_text("4,800 of 12,000 stored").is_visible() and page.get_by_text("minutes left").is_visible()
    assert page.get_by_role("heading", name="Orders older than 60 days").is_visible()  # no read_all_orders: why, how
    assert not page.get_by_role("button", name="Allow access to all orders").is_visible()  # no App Bridge scopes here
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing overflows sideways"
    screenshot(page, f"panel-history-import-{width}")
    assert accessibility_violations(page) == []

    HistoryImport.objects.filter(pk=row.pk).update(rows_done=9_000, updated_at=timezone.now())
    page.get_by_text("9,000 of 12,000 stored").wait_for(timeout=10_000)  # without a reload
    assert page.get_by_role("progressbar").get_attribute("value") == "72"

    page.get_by_role("button", name="Cancel the import").click()
    page.get_by_role("heading", name="Import canceled").wait_for()
    assert HistoryImport.objects.get(pk=row.pk).status == HistoryImport.Status.CANCELED
    assert page.get_by_role("button", name="Import").is_visible()  # and it can be started again
    assert page.console_errors == []


def test_allow_access_asks_shopify_through_app_bridge_when_the_admin_offers_it(live_server, browser, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com", scopes="read_orders")
    context = browser.new_context(viewport=WIDTHS["desktop"])
    try:
        page = context.new_page()
        asked = []
        page.expose_function("scopeAsked", lambda scopes: asked.append(scopes))
        page.route("https://cdn.shopify.com/**", lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=APP_BRIDGE_STUB + """
window.shopify.scopes = { request: function (scopes) { window.scopeAsked(scopes);
  return Promise.resolve({ result: "declined-all" }); } };"""))
        page.goto(f"{live_server.url}/app/history/?id_token={session_token(shop.domain)}")
        page.get_by_role("button", name="Allow access to all orders").click()
        page.wait_for_function("() => true")
        page.wait_for_timeout(300)
        assert asked == [["read_all_orders"]]
        assert not page.get_by_text("Open Advocate from your Shopify admin").is_visible()  # App Bridge asks instead
    finally:
        context.close()
