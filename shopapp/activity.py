"""The activity page in the merchant's words: "Order #1043 fulfilled", not `orders/fulfilled`.

Only what the page needs is read from each stored payload (by the database, not by loading it):
the order's name, or the order it is about, and a status. No customer's name or address is shown:
the page lists what happened, not to whom.
"""
from __future__ import annotations

from django.db.models.fields.json import KeyTextTransform

from shopapp.models import Order, Shop

ORDER_WORDS = {
    "orders/create": "placed", "orders/paid": "paid", "orders/fulfilled": "fulfilled",
    "orders/cancelled": "cancelled", "orders/updated": "updated", "orders/partially_fulfilled": "partly fulfilled",
    "fulfillments/create": "shipped", "fulfillments/update": "shipment updated", "refunds/create": "refunded",
}
OTHER_WORDS = {
    "customers/create": "A customer signed up",
    "customers/update": "A customer's details changed",
    "customers_email_marketing_consent/update": "A customer's email consent changed",
    "app/uninstalled": "Advocate was uninstalled",
    "customers/data_request": "A customer asked for the data Advocate holds about them",
    "customers/redact": "A customer's data was erased at their request",
    "shop/redact": "Your shop's data was erased after the uninstall",
    "bulk_operations/finish": "Shopify finished a bulk update of your products' reviews",
}


def with_summary_fields(events):
    """The events with the few payload values the summaries need, read by the database."""
    return events.annotate(p_name=KeyTextTransform("name", "payload"), p_order_id=KeyTextTransform("order_id", "payload"))


def event_summaries(shop: Shop, events) -> dict[int, str]:
    """event pk -> one line saying what happened, for a page of events from with_summary_fields()."""
    order_ids = {_id(e.p_order_id) for e in events} - {None}
    names = dict(Order.objects.filter(shop=shop, shopify_id__in=order_ids).values_list("shopify_id", "name"))
    lines = {}
    for event in events:
        if event.topic in ORDER_WORDS:
            order_id = _id(event.p_order_id)
            name = names.get(order_id) if order_id else (event.p_name if event.topic.startswith("orders/") else None)
            lines[event.pk] = f"Order {name} {ORDER_WORDS[event.topic]}" if name else \
                f"An order {ORDER_WORDS[event.topic]}"
        else:
            lines[event.pk] = OTHER_WORDS.get(event.topic, event.topic)
    return lines


def _id(value) -> int | None:
    """A payload id as the database gave it (a number on SQLite, text on PostgreSQL)."""
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None
