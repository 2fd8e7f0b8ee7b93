from __future__ import annotations

import pytest

from shopapp.models import WebhookEvent

pytestmark = pytest.mark.django_db


def test_activity_lists_this_shops_events_with_failures_visible(panel_get, shop, other_shop):
    WebhookEvent.objects.create(shop_domain=shop.domain, topic="orders/create", event_key="1", status="done")
    WebhookEvent.objects.create(shop_domain=shop.domain, topic="refunds/create", event_key="2", status="failed",
                                attempts=3, last_error="LookupError: order 9 is not known yet")
    WebhookEvent.objects.create(shop_domain=other_shop.domain, topic="customers/update", event_key="3", status="done")
    page = panel_get("/app/activity/", shop).content.decode()
    assert "orders/create" in page and "order 9 is not known yet" in page
    assert "customers/update" not in page

    failed_only = panel_get("/app/activity/?status=failed", shop).content.decode()
    assert "refunds/create" in failed_only and "orders/create" not in failed_only


def test_activity_paginates(panel_get, shop):
    for i in range(55):
        WebhookEvent.objects.create(shop_domain=shop.domain, topic=f"topic/{i:02d}", event_key=str(i))
    first = panel_get("/app/activity/", shop).content.decode()
    assert "Page 1 of 2" in first and "topic/54" in first and "topic/00" not in first
    assert "topic/00" in panel_get("/app/activity/?page=2", shop).content.decode()


def test_activity_has_an_empty_state(panel_get, shop):
    assert "No events yet" in panel_get("/app/activity/", shop).content.decode()


def test_activity_says_what_happened_in_the_merchants_words(panel_get, shop, other_shop):
    """The order's name from the payload, or from the stored order for a refund or shipment; no names."""
    from decimal import Decimal

    from django.utils import timezone

    from shopapp.models import Order

    Order.objects.create(shop=shop, shopify_id=4401, name="#1043", email="maya@example.com", currency="USD",
                         total=Decimal("30.00"), placed_at=timezone.now())
    Order.objects.create(shop=other_shop, shopify_id=4402, name="#9999", currency="USD", total=Decimal("1.00"),
                         placed_at=timezone.now())
    rows = [("orders/fulfilled", {"id": 4401, "name": "#1043", "email": "maya@example.com"}),
            ("refunds/create", {"id": 1, "order_id": 4401}),
            ("fulfillments/create", {"id": 2, "order_id": 4401, "name": "#1043.1"}),
            ("refunds/create", {"id": 3, "order_id": 4402}),  # another shop's order: its name never shows
            ("customers/redact", {"customer": {"email": "maya@example.com"}}),
            ("some/new_topic", {})]
    for n, (topic, payload) in enumerate(rows):
        WebhookEvent.objects.create(shop_domain=shop.domain, topic=topic, event_key=str(n), payload=payload,
                                    status="done")
    from html import unescape

    page = unescape(" ".join(panel_get("/app/activity/", shop).content.decode().split()))
    for line in ("Order #1043 fulfilled", "Order #1043 refunded", "Order #1043 shipped", "An order refunded",
                 "A customer's data was erased at their request", "some/new_topic"):
        assert line in page, line
    assert "#9999" not in page and "maya@example.com" not in page
