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
