"""The activity page in the merchant's words: "Order #1043 fulfilled", not `orders/fulfilled`.

Only what the page needs is read from each stored payload (by the database, not by loading it):
the order's name, or the order it is about, and a status. No customer's name or address is shown:
the page lists what happened, not to whom.
"""
from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy

from shopapp.models import Order, Shop
from shopapp.translations import active_locale

# Per topic, what happened to an order whose name is known (as %(order)s), and to one whose is not.
ORDER_WORDS = {
    "orders/create": (gettext_lazy("Order %(order)s placed"), gettext_lazy("An order placed")),
    "orders/paid": (gettext_lazy("Order %(order)s paid"), gettext_lazy("An order paid")),
    "orders/fulfilled": (gettext_lazy("Order %(order)s fulfilled"), gettext_lazy("An order fulfilled")),
    "orders/cancelled": (gettext_lazy("Order %(order)s cancelled"), gettext_lazy("An order cancelled")),
    "orders/updated": (gettext_lazy("Order %(order)s updated"), gettext_lazy("An order updated")),
    "orders/partially_fulfilled": (gettext_lazy("Order %(order)s partly fulfilled"),
                                   gettext_lazy("An order partly fulfilled")),
    "fulfillments/create": (gettext_lazy("Order %(order)s shipped"), gettext_lazy("An order shipped")),
    "fulfillments/update": (gettext_lazy("Order %(order)s shipment updated"), gettext_lazy("An order shipment updated")),
    "refunds/create": (gettext_lazy("Order %(order)s refunded"), gettext_lazy("An order refunded")),
}
OTHER_WORDS = {
    "customers/create": gettext_lazy("A customer signed up"),
    "customers/update": gettext_lazy("A customer's details changed"),
    "customers_email_marketing_consent/update": gettext_lazy("A customer's email consent changed"),
    "app/uninstalled": gettext_lazy("Advocate was uninstalled"),
    "customers/data_request": gettext_lazy("A customer asked for the data Advocate holds about them"),
    "customers/redact": gettext_lazy("A customer's data was erased at their request"),
    "shop/redact": gettext_lazy("Your shop's data was erased after the uninstall"),
    "bulk_operations/finish": gettext_lazy("Shopify finished a bulk update of your products' reviews"),
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
            named, unnamed = ORDER_WORDS[event.topic]
            lines[event.pk] = named % {"order": name} if name else str(unnamed)
        else:
            lines[event.pk] = str(OTHER_WORDS.get(event.topic, event.topic))
    return lines


def received_format(moment: datetime) -> str:
    """When an event came, to the second (several come in one minute): '5 Dec 2026, 14:05:33'."""
    return format_datetime(timezone.localtime(moment), format="medium", locale=active_locale(dates=True))


def _id(value) -> int | None:
    """A payload id as the database gave it (a number on SQLite, text on PostgreSQL)."""
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None
