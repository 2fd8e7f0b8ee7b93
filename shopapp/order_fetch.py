"""Orders an event waited for too long: fetched from Shopify and stored through the same upsert.

A fulfilment or refund can arrive before its orders/create (Shopify sends topics out of
order, and retries a failed delivery for up to two days). The event waits, without spending
attempts; when the order's own webhook is still missing after WEBHOOK_AWAIT_FETCH_SECONDS,
this sweeper asks Admin GraphQL for the order, stores it as if its webhook had come, and the
waiting events run.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shopapp.admin_api import AdminClient, ShopifyError
from shopapp.models import Order, Shop
from shopapp.orders import order_upsert
from shopapp.webhooks import webhook_event_give_up, webhook_events_awaiting, webhook_events_wake

log = logging.getLogger(__name__)

ORDER_QUERY = """
query AwaitedOrder($id: ID!) {
  order(id: $id) {
    legacyResourceId name createdAt cancelledAt email customerLocale
    displayFinancialStatus displayFulfillmentStatus discountCodes
    totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
    customer { legacyResourceId email firstName lastName }
    lineItems(first: 250) { nodes { id title quantity product { legacyResourceId } } }
  }
}
"""


def awaited_orders_fetch() -> int:
    """Sweeper: fetch each order that waiting events have waited on for too long; returns the orders stored."""
    stored = 0
    give_up_before = timezone.now() - timedelta(seconds=settings.WEBHOOK_AWAIT_GIVE_UP_SECONDS)
    wanted: dict[tuple[str, int], list] = {}
    for event in webhook_events_awaiting()[:200]:
        wanted.setdefault((event.shop_domain, event.awaits_order_id), []).append(event)
    for (domain, order_id), events in wanted.items():
        shop = Shop.objects.installed().filter(domain=domain).first()
        try:
            if shop is None:
                raise LookupError(f"{domain} is not installed: its order {order_id} cannot be fetched")
            stored += awaited_order_fetch(shop=shop, order_id=order_id)
        except (ShopifyError, LookupError) as exc:
            log.warning("order %s of %s could not be fetched: %s", order_id, domain, exc)
            for event in events:
                if event.received_at < give_up_before:
                    webhook_event_give_up(event, f"its order {order_id} never arrived: {exc}")
    return stored


def awaited_order_fetch(*, shop: Shop, order_id: int) -> int:
    """Store the order from Shopify's own state and wake what waited on it (1), or LookupError."""
    if Order.objects.filter(shop=shop, shopify_id=order_id).exists():
        with transaction.atomic():
            webhook_events_wake(shop=shop, order_id=order_id)
        return 1
    data = AdminClient(shop).query(ORDER_QUERY, {"id": f"gid://shopify/Order/{order_id}"}, cost=15)
    node = data.get("order")
    if not node:
        raise LookupError(f"Shopify has no order {order_id}")
    with transaction.atomic():
        order_upsert(shop=shop, payload=order_payload_of(node))
        webhook_events_wake(shop=shop, order_id=order_id)
    return 1


def order_payload_of(node: dict) -> dict:
    """The GraphQL order in the shape of an order webhook, which order_upsert reads."""
    total = node.get("totalPriceSet") or {}
    shop_money = total.get("shopMoney") or {}
    presentment = total.get("presentmentMoney") or {}
    customer = node.get("customer") or None
    fulfilment = (node.get("displayFulfillmentStatus") or "").lower()
    return {
        "id": int(node["legacyResourceId"]),
        "name": node.get("name") or "",
        "email": node.get("email") or "",
        "customer_locale": node.get("customerLocale") or "",
        "created_at": node.get("createdAt"),
        "cancelled_at": node.get("cancelledAt"),
        "currency": shop_money.get("currencyCode") or "",
        "total_price": shop_money.get("amount"),
        "total_price_set": {
            "shop_money": {"amount": shop_money.get("amount"), "currency_code": shop_money.get("currencyCode")},
            "presentment_money": {"amount": presentment.get("amount"), "currency_code": presentment.get("currencyCode")},
        },
        "financial_status": (node.get("displayFinancialStatus") or "").lower(),
        "fulfillment_status": "fulfilled" if fulfilment == "fulfilled" else None,
        "discount_codes": [{"code": code} for code in node.get("discountCodes") or []],
        "customer": {
            "id": customer.get("legacyResourceId"), "email": customer.get("email"),
            "first_name": customer.get("firstName"), "last_name": customer.get("lastName"),
        } if customer else None,
        "line_items": [
            {"id": int(line["id"].rsplit("/", 1)[-1]), "title": line.get("title"), "quantity": line.get("quantity"),
             "product_id": (line.get("product") or {}).get("legacyResourceId")}
            for line in (node.get("lineItems") or {}).get("nodes") or []
        ],
    }
