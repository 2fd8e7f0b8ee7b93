"""Webhook handlers: schedule a review request when the order reaches the shop's trigger,
cancel it when the order is refunded or cancelled. They run after shopapp's own handlers
for the same topics, which stored the order; order_for retries until orders/create lands."""
from __future__ import annotations

from reviews.services import review_request_schedule, review_requests_cancel
from shopapp.models import Shop, WebhookEvent
from shopapp.orders import order_for
from shopapp.webhooks import webhook_handler


@webhook_handler("orders/fulfilled")
@webhook_handler("fulfillments/create")
@webhook_handler("fulfillments/update")
def on_fulfilment(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order_id = payload.get("order_id") if event.topic.startswith("fulfillments/") else payload.get("id")
    review_request_schedule(order=order_for(shop, order_id))


@webhook_handler("orders/cancelled")
@webhook_handler("refunds/create")
def on_refund_or_cancel(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order_id = payload.get("order_id") if event.topic == "refunds/create" else payload.get("id")
    order = order_for(shop, order_id)
    if order.is_refunded_or_cancelled:
        review_requests_cancel(order=order, reason="order refunded or cancelled")
