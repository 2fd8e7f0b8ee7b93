"""Reviews' part of an order change: schedule a review request when the order reaches the
shop's trigger, cancel it when the order is refunded or cancelled. The platform stored the
order first and hands over the parsed event (registered in ReviewsConfig.ready)."""
from __future__ import annotations

from reviews.requests import review_request_schedule, review_requests_cancel
from shopapp.registry import OrderEvent


def on_order_changed(event: OrderEvent) -> None:
    if event.is_fulfilment:
        review_request_schedule(order=event.order)
    if event.is_refund_or_cancel and event.order.is_refunded_or_cancelled:
        review_requests_cancel(order=event.order, reason="order refunded or cancelled")
