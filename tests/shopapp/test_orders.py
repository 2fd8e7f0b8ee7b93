from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from shopapp.models import Customer, Order, WebhookEvent
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_payload():
    return load_fixture("webhooks/orders_create.json")


def test_order_webhook_stores_order_lines_and_customer(post_webhook, shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    order = Order.objects.get(shop=shop)
    assert order.shopify_id == 9007199254741123
    assert (order.total, order.currency) == (Decimal("96.00"), "USD")
    assert (order.presentment_total, order.presentment_currency) == (Decimal("88.40"), "EUR")
    assert [d["code"] for d in order.discount_codes] == ["MAYA-7K2Q", "FREESHIP"]
    assert order.email == "maya.r@example.com"
    assert order.paid_at is not None
    lines = {ln.title: ln for ln in order.lines.all()}
    assert lines["Custom engraving"].product_id is None
    assert lines["Gift card"].gift_card
    assert lines["Trail Mug"].product_id == 9007199254741301
    customer = order.customer
    assert (customer.shopify_id, customer.first_name, customer.email) == (9007199254740993, "Maya", "maya.r@example.com")


def test_guest_checkout_without_customer_or_email_is_stored(post_webhook, shop):
    post_webhook("orders/create", load_fixture("webhooks/orders_create_guest.json"), shop)
    order = Order.objects.get(shop=shop)
    assert order.customer.phone == "+15555550123" and order.customer.shopify_id is None
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.DONE


def test_fulfilled_before_created_still_lands(post_webhook, shop, order_payload):
    fulfilled = copy.deepcopy(order_payload)
    fulfilled["fulfillment_status"] = "fulfilled"
    fulfilled["fulfillments"] = [{"id": 1, "status": "success", "created_at": "2026-11-21T08:00:00-05:00"}]
    post_webhook("orders/fulfilled", fulfilled, shop)
    post_webhook("orders/create", order_payload, shop)  # late and out of order
    order = Order.objects.get(shop=shop)
    assert order.fulfilled_at is not None  # never moves backwards
    assert Order.objects.count() == 1


def test_delivery_is_recorded_from_fulfillment_update(post_webhook, shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    post_webhook("fulfillments/update", {"id": 77, "order_id": order_payload["id"], "status": "success",
                                         "shipment_status": "delivered", "updated_at": "2026-11-23T12:00:00Z"}, shop)
    order = Order.objects.get(shop=shop)
    assert order.delivered_at is not None and order.fulfilled_at is not None


def test_refund_counts_shipping_once_and_is_counted_once(post_webhook, shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    refund = load_fixture("webhooks/refunds_create.json")
    post_webhook("refunds/create", refund, shop)
    post_webhook("refunds/create", refund, shop)  # delivered again under a new event id
    order = Order.objects.get(shop=shop)
    assert order.refunded == Decimal("36.00")
    assert order.lines.get(title="Trail Mug").refunded_quantity == 1
    assert not order.is_refunded_or_cancelled


def test_refund_before_its_order_fails_and_is_retried(post_webhook, shop):
    post_webhook("refunds/create", load_fixture("webhooks/refunds_create.json"), shop)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED and event.next_attempt_at is not None


def test_marketing_consent_arrives_on_its_own_topic(post_webhook, shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    post_webhook("customers_email_marketing_consent/update", {
        "customer_id": 9007199254740993, "email_address": "maya.r@example.com",
        "email_marketing_consent": {"state": "unsubscribed", "opt_in_level": "single_opt_in", "consent_updated_at": "2026-11-22T10:00:00Z"},
    }, shop)
    assert Customer.objects.get(shop=shop).marketing == Customer.Marketing.UNSUBSCRIBED


def test_orders_are_kept_per_shop(post_webhook, shop, other_shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    post_webhook("orders/create", order_payload, other_shop)
    assert Order.objects.filter(shopify_id=order_payload["id"]).count() == 2
    assert Customer.objects.filter(shop=other_shop).count() == 1


def test_customer_redact_erases_identity_and_keeps_amounts(post_webhook, shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    post_webhook("customers/redact", {"shop_domain": shop.domain, "customer": {"id": 9007199254740993, "email": "maya.r@example.com"},
                                      "orders_to_redact": [order_payload["id"]]}, shop)
    order = Order.objects.get(shop=shop)
    assert order.email == "" and order.shipping_address is None
    assert order.total == Decimal("96.00")
    customer = order.customer
    assert (customer.email, customer.first_name) == ("", "") and customer.redacted_at

    # A late order webhook does not bring the identity back.
    post_webhook("orders/paid", order_payload, shop)
    customer.refresh_from_db()
    assert customer.email == ""


def test_unsubscribe_link_is_honoured_at_once_and_can_be_undone(client, post_webhook, shop, order_payload):
    from shopapp.mail import marketing_blocked, unsubscribe_url

    post_webhook("orders/create", order_payload, shop)
    customer = Customer.objects.get(shop=shop)
    assert marketing_blocked(shop, customer) is None
    path = unsubscribe_url(customer).split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    response = client.post("/" + path, {"action": "unsubscribe"})
    assert response.status_code == 200 and b"unsubscribed" in response.content
    customer.refresh_from_db()
    assert marketing_blocked(shop, customer) == "unsubscribed from Advocate's emails"
    client.post("/" + path, {"action": "resubscribe"})
    customer.refresh_from_db()
    assert customer.unsubscribed_at is None


def test_tampered_unsubscribe_link_changes_nothing(client, shop):
    response = client.get("/u/not-a-real-token")
    assert response.status_code == 404


def test_customer_counters_follow_orders_refunds_and_cancellations(post_webhook, shop, order_payload):
    post_webhook("orders/create", order_payload, shop)
    post_webhook("orders/create", order_payload, shop, event_id="again")  # a repeat delivery counts once
    second = copy.deepcopy(order_payload)
    second.update(id=order_payload["id"] + 1, name="#1002", created_at="2026-11-20T10:00:00Z")
    post_webhook("orders/create", second, shop)
    customer = Customer.objects.get(shop=shop, shopify_id=order_payload["customer"]["id"])
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("192.00"))

    post_webhook("refunds/create", load_fixture("webhooks/refunds_create.json"), shop)
    customer.refresh_from_db()
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("156.00"))

    post_webhook("orders/cancelled", {**second, "cancelled_at": "2026-11-21T10:00:00Z"}, shop)
    customer.refresh_from_db()
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("60.00"))


def test_order_days_follow_orders_in_the_shops_timezone(post_webhook, shop, order_payload):
    from datetime import date

    from shopapp.models import OrderDay

    shop.timezone = "America/New_York"
    shop.save(update_fields=["timezone"])
    late = {**order_payload, "created_at": "2026-11-20T03:30:00Z"}  # 22:30 on the 19th in New York
    post_webhook("orders/create", late, shop)
    post_webhook("orders/create", late, shop, event_id="again")
    day = OrderDay.objects.get(shop=shop)
    assert (day.day, day.orders, day.revenue, day.refunded) == (date(2026, 11, 19), 1, Decimal("96.00"), Decimal("0.00"))
    post_webhook("refunds/create", load_fixture("webhooks/refunds_create.json"), shop)
    day.refresh_from_db()
    assert day.refunded == Decimal("36.00")
    post_webhook("orders/cancelled", {**late, "cancelled_at": "2026-11-21T10:00:00Z"}, shop)
    day.refresh_from_db()
    assert (day.orders, day.revenue) == (0, Decimal("0.00"))
