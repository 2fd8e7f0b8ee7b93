"""The dashboard's charts as a merchant sees them, with a month of data, on a phone and a desktop."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.browser import accessibility_violations, artifacts_dir, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDERS = [3, 5, 4, 0, 6, 8, 7, 5, 9, 12, 10, 6, 4, 7, 9, 11, 14, 9, 8, 6, 5, 7, 10, 13, 12, 9, 8, 11, 10, 7]
# (days ago, ratings): days without reviews between them are gaps in the average, not zeros
REVIEWS = [(1, [5, 4]), (2, [5]), (4, [2, 5, 5]), (5, [4]), (8, [1, 3]), (9, [5, 5, 4]), (12, [5]),
           (13, [4, 4]), (17, [5]), (20, [3, 5]), (21, [5, 5, 5]), (25, [4]), (28, [2, 4])]
REFERRED = [2, 3, 6, 9, 15, 22, 26]  # days ago: each a friend's order too


def _month_of_business(shop):
    from referrals.models import Advocate, Click, Referral
    from reviews.models import Review
    from reviews.services import review_create
    from shopapp.orders import order_stats_refresh
    from tests.referrals.helpers import customer, order

    now = timezone.now()
    buyers = [customer(shop, first_name=f"Buyer{i}") for i in range(40)]
    for days_ago, count in enumerate(reversed(ORDERS)):
        for i in range(count):
            placed = order(shop, buyers[(days_ago + i) % len(buyers)], total=f"{40 + 7 * i}.00",
                           placed_at=now - timedelta(days=days_ago, minutes=i))
            order_stats_refresh(placed)
    for days_ago, ratings in REVIEWS:
        for rating in ratings:
            review = review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=rating)
            Review.objects.filter(pk=review.pk).update(created_at=now - timedelta(days=days_ago))
    maya = Advocate.objects.create(shop=shop, customer=buyers[0], code="MAYA-0002")
    for i in range(24):
        Click.objects.create(shop=shop, advocate=maya, ip_hash=f"{i:032d}", own=False)
    for i, days_ago in enumerate(REFERRED):
        friend = customer(shop, first_name=f"Friend{i}")
        placed = order(shop, friend, total=f"{60 + 15 * i}.00", placed_at=now - timedelta(days=days_ago))
        referral = Referral.objects.create(
            shop=shop, advocate=maya, order=placed, friend=friend,
            via=Referral.Via.CODE, status=Referral.Status.ISSUED if i % 2 else Referral.Status.PENDING,
            order_total=Decimal(60 + 15 * i), reward_amount=Decimal("10.00"), currency=shop.currency)
        Referral.objects.filter(pk=referral.pk).update(created_at=now - timedelta(days=days_ago))
        order_stats_refresh(referral.order)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_dashboard_charts_read_at_a_glance_and_show_each_days_value_on_focus(live_server, open_page, width, db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com", currency="EUR")
    _month_of_business(shop)
    page = open_page(f"{live_server.url}/?range=30&id_token={session_token(shop.domain)}", width)

    orders = page.locator("figure.chart", has=page.get_by_role("heading", name="Orders per day"))
    assert orders.locator(".chart-takeaway").inner_text() == (
        f"{sum(ORDERS) + len(REFERRED)} orders in the last 30 days; busiest day "
        f"{orders.locator('.pt').nth(ORDERS.index(max(ORDERS))).get_attribute('aria-label').split(':')[0]}, "
        f"with {max(ORDERS)} orders")
    assert orders.locator(".chart-y span").first.inner_text() == "15 orders"  # the top tick names the unit
    assert orders.locator(".chart-x span").count() >= 3  # dates along the way, not just the ends

    # The latest day is the chart's one Tab stop; its value shows on focus, and arrows move along the days.
    latest = orders.locator(".pt").last
    assert latest.get_attribute("tabindex") == "0" and orders.locator('.pt[tabindex="0"]').count() == 1
    assert not latest.locator(".tip").is_visible()
    latest.focus()
    assert latest.locator(".tip").is_visible()
    assert latest.locator(".tip").inner_text().endswith(f"{ORDERS[-1]} orders")
    page.keyboard.press("ArrowLeft")
    before = orders.locator(".pt").nth(len(ORDERS) - 2)
    assert before.evaluate("e => e === document.activeElement") and before.locator(".tip").is_visible()
    assert before.locator(".tip").inner_text().endswith(f"{ORDERS[-2]} orders")

    reviews = page.locator("figure.chart", has=page.get_by_role("heading", name="Reviews per day"))
    assert reviews.locator(".chart-legend li").all_inner_texts() == ["All reviews", "1 or 2 ★"]
    average = page.locator("figure.chart", has=page.get_by_role("heading", name="Average rating per day"))
    assert average.locator("path.line").get_attribute("d").count("M") > 1  # days without reviews are gaps
    assert "no reviews" in average.locator("table").inner_text()

    # Every word on a chart stays legible at the phone's width: no text under 11px.
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('.chart *')]
        .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 11
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing overflows sideways"
    assert page.console_errors == []
    page.evaluate("document.activeElement.blur()")
    screenshot(page, f"panel-dashboard-charts-{width}")
    assert accessibility_violations(page) == []
    latest.focus()
    orders.screenshot(path=str(artifacts_dir() / f"panel-dashboard-chart-focus-{width}.png"))
