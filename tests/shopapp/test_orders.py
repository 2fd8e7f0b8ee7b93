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


def test_refund_before_its_order_waits_for_it_without_spending_an_attempt(post_webhook, shop):
    post_webhook("refunds/create", load_fixture("webhooks/refunds_create.json"), shop)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.WAITING and event.attempts == 0


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


# --- two workers on one customer ----------------------------------------------------------

@pytest.fixture
def on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so two workers never interleave")


def _stored_event(shop, topic: str, payload: dict) -> int:
    import uuid

    return WebhookEvent.objects.create(shop_domain=shop.domain, topic=topic, event_key=uuid.uuid4().hex,
                                       payload=payload).pk


def _process_interleaved(first: int, second: int) -> None:
    """Process `first` up to its first write to a customer row, then `second` to its end (or until
    it waits for a lock `first` holds), then the rest of `first`: each in its own worker and connection."""
    import threading

    from django.db import connection

    from shopapp.webhooks import webhook_event_process

    paused, second_done = threading.Event(), threading.Event()

    def pause_before_customer_write(execute, sql, params, many, context):
        if sql.lstrip().startswith('UPDATE "shopapp_customer"') and not paused.is_set():
            paused.set()
            second_done.wait(timeout=2)  # a worker holding the row's lock makes the other wait instead
        return execute(sql, params, many, context)

    def run_first():
        try:
            with connection.execute_wrapper(pause_before_customer_write):
                webhook_event_process(first)
        finally:
            paused.set()
            connection.close()

    def run_second():
        paused.wait(timeout=5)
        try:
            webhook_event_process(second)
        finally:
            second_done.set()
            connection.close()

    workers = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert set(WebhookEvent.objects.filter(pk__in=[first, second]).values_list("status", flat=True)) == {"done"}


@pytest.mark.django_db(transaction=True)
def test_customer_update_racing_an_order_keeps_the_orders_count(on_postgresql, shop, order_payload):
    customer = Customer.objects.create(shop=shop, shopify_id=order_payload["customer"]["id"], email="maya.r@example.com")
    update = _stored_event(shop, "customers/update", {"id": customer.shopify_id, "email": "maya.r@example.com",
                                                      "first_name": "Maya", "last_name": "Rossi-Lee"})
    del order_payload["customer"]["last_name"]  # each event keeps what it changed
    order = _stored_event(shop, "orders/create", order_payload)
    _process_interleaved(update, order)
    customer.refresh_from_db()
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("96.00"))
    assert customer.last_name == "Rossi-Lee"


@pytest.mark.django_db(transaction=True)
def test_customer_update_racing_a_redaction_never_brings_the_customer_back(on_postgresql, shop, order_payload):
    customer = Customer.objects.create(shop=shop, shopify_id=order_payload["customer"]["id"], email="maya.r@example.com",
                                       first_name="Maya")
    update = _stored_event(shop, "customers/update", {"id": customer.shopify_id, "email": "maya.r@example.com",
                                                      "first_name": "Maya", "last_name": "Rossi"})
    redact = _stored_event(shop, "customers/redact", {"shop_domain": shop.domain,
                                                      "customer": {"id": customer.shopify_id, "email": "maya.r@example.com"}})
    _process_interleaved(update, redact)
    customer.refresh_from_db()
    assert customer.redacted_at is not None
    assert (customer.email, customer.first_name, customer.last_name) == ("", "", "")



@pytest.mark.django_db(transaction=True)
def test_refund_recount_racing_a_new_order_keeps_both(on_postgresql, shop, order_payload):
    from shopapp.webhooks import webhook_event_process

    webhook_event_process(_stored_event(shop, "orders/create", order_payload))
    refund = _stored_event(shop, "refunds/create", load_fixture("webhooks/refunds_create.json"))
    second = _stored_event(shop, "orders/create", {**order_payload, "id": order_payload["id"] + 1, "name": "#1002"})
    _process_interleaved(refund, second)
    customer = Customer.objects.get(shop=shop)
    assert (customer.orders_count, customer.total_spent) == (2, Decimal("156.00"))

# --- deliveries after customers/redact ----------------------------------------------------

def _redact_maya(post_webhook, shop):
    post_webhook("customers/redact", {"shop_id": 954889, "shop_domain": shop.domain,
                                      "customer": {"id": 9007199254740993, "email": "maya.r@example.com", "phone": "+15555550100"},
                                      "orders_to_redact": [9007199254741123]}, shop)


def _assert_nothing_of_maya_in(text: str) -> None:
    for personal in ("maya", "Rossi", "+15555550100", "4471", "203.0.113.7", "iPhone", "Main St", "nuts"):
        assert personal.lower() not in text.lower(), personal


def test_order_arriving_after_its_customer_was_redacted_is_stored_without_the_person(post_webhook, shop):
    full = load_fixture("webhooks/orders_updated_full.json")
    _redact_maya(post_webhook, shop)  # Shopify delivered the order a day late, after the redaction
    post_webhook("orders/create", full, shop)
    post_webhook("orders/paid", full, shop)

    order = Order.objects.get(shop=shop)
    assert (order.total, order.shipping_country) == (Decimal("96.00"), "US")
    assert (order.email, order.phone, order.browser_ip, order.user_agent) == ("", "", "", "")
    assert order.shipping_address is None and order.note_attributes == []
    customer = Customer.objects.get(shop=shop)
    assert customer.redacted_at and (customer.email, customer.first_name) == ("", "")
    assert customer.orders_count == 1
    for event in WebhookEvent.objects.filter(topic__startswith="orders/"):
        assert event.status == WebhookEvent.Status.DONE
        assert event.payload["id"] == full["id"] and event.payload["line_items"][0]["title"] == "Trail Mug"
        _assert_nothing_of_maya_in(str(event.payload) + event.raw_body)


def test_late_order_and_customer_updates_about_a_redacted_customer_bring_nothing_back(post_webhook, shop):
    full = load_fixture("webhooks/orders_updated_full.json")
    post_webhook("orders/create", full, shop)
    _redact_maya(post_webhook, shop)
    post_webhook("orders/paid", full, shop)
    post_webhook("customers/update", {**full["customer"], "updated_at": "2026-11-21T10:00:00Z"}, shop)

    order = Order.objects.get(shop=shop)
    assert order.email == "" and order.shipping_address is None and order.note_attributes == []
    customer = Customer.objects.get(shop=shop)
    assert (customer.email, customer.phone, customer.first_name, customer.last_name) == ("", "", "", "")
    for event in WebhookEvent.objects.exclude(topic="customers/redact"):
        _assert_nothing_of_maya_in(str(event.payload) + event.raw_body)


def test_another_customers_order_after_a_redaction_is_stored_as_sent(post_webhook, shop):
    _redact_maya(post_webhook, shop)
    other = load_fixture("webhooks/orders_updated_full.json")
    other.update(id=1, email="lee@example.com")
    other["customer"] = {"id": 5, "email": "lee@example.com", "first_name": "Lee"}
    post_webhook("orders/create", other, shop)
    order = Order.objects.get(shop=shop, shopify_id=1)
    assert order.email == "lee@example.com" and order.shipping_address["city"] == "Portland"
    assert WebhookEvent.objects.get(topic="orders/create").payload["note"].startswith("Gate code")


# --- consent in Shopify's delivery order ---------------------------------------------------

def _customers_update_with_consent(state: str, at: str) -> dict:
    """customers/update as API versions before 2025-01 sent it, with the consent inside."""
    return {"id": 9007199254740993, "email": "maya.r@example.com", "first_name": "Maya",
            "email_marketing_consent": {"state": state, "opt_in_level": "single_opt_in", "consent_updated_at": at}}


def test_older_subscribed_statement_arriving_after_an_unsubscribe_does_not_resubscribe(post_webhook, shop):
    post_webhook("customers_email_marketing_consent/update",
                 load_fixture("webhooks/customers_email_marketing_consent_update.json"), shop)  # unsubscribed on the 22nd
    post_webhook("customers/update", _customers_update_with_consent("subscribed", "2026-11-20T09:00:00Z"), shop)
    post_webhook("orders/create", load_fixture("webhooks/orders_updated_full.json"), shop)  # subscribed on the 20th
    customer = Customer.objects.get(shop=shop)
    assert customer.marketing == Customer.Marketing.UNSUBSCRIBED
    assert customer.marketing_updated_at.isoformat() == "2026-11-22T15:00:00+00:00"


def test_newer_consent_wins_whichever_topic_carries_it(post_webhook, shop):
    post_webhook("customers/update", _customers_update_with_consent("subscribed", "2026-11-25T09:00:00Z"), shop)
    post_webhook("customers_email_marketing_consent/update",
                 load_fixture("webhooks/customers_email_marketing_consent_update.json"), shop)  # older: the 22nd
    assert Customer.objects.get(shop=shop).marketing == Customer.Marketing.SUBSCRIBED


def test_a_payload_without_consent_says_neither_yes_nor_no(post_webhook, shop):
    post_webhook("customers_email_marketing_consent/update",
                 load_fixture("webhooks/customers_email_marketing_consent_update.json"), shop)
    post_webhook("customers/update", {"id": 9007199254740993, "email": "maya.r@example.com"}, shop)  # API 2025-01+
    post_webhook("customers/update", {**_customers_update_with_consent("subscribed", ""),
                                      "email_marketing_consent": {"state": None}}, shop)
    assert Customer.objects.get(shop=shop).marketing == Customer.Marketing.UNSUBSCRIBED


def test_undated_consent_never_overrides_a_dated_one(post_webhook, shop):
    post_webhook("customers_email_marketing_consent/update",
                 load_fixture("webhooks/customers_email_marketing_consent_update.json"), shop)
    post_webhook("customers/update", _customers_update_with_consent("subscribed", None), shop)
    assert Customer.objects.get(shop=shop).marketing == Customer.Marketing.UNSUBSCRIBED


def test_fulfilment_of_a_redacted_customers_order_is_stored_without_the_address(post_webhook, shop):
    full = load_fixture("webhooks/orders_updated_full.json")
    post_webhook("orders/create", full, shop)
    _redact_maya(post_webhook, shop)
    post_webhook("fulfillments/create", {"id": 5, "order_id": full["id"], "status": "success", "email": "maya.r@example.com",
                                         "destination": full["shipping_address"], "line_items": [{"id": 9007199254741201}]}, shop)
    event = WebhookEvent.objects.get(topic="fulfillments/create")
    assert event.status == WebhookEvent.Status.DONE and event.payload["line_items"] == [{"id": 9007199254741201}]
    _assert_nothing_of_maya_in(str(event.payload))
    assert Order.objects.get(shop=shop).lines.get(title="Trail Mug").fulfilled_at is not None
