"""Referrals' part of the order webhooks; shopapp's handlers have stored the order first."""
from __future__ import annotations

from referrals import privacy  # noqa: F401  (registers the compliance export and redaction)
from referrals.attribution import referral_attribute
from referrals.invitations import advocate_invite_schedule
from referrals.rewards import referral_order_changed
from referrals.services import advocate_enrol_for_order
from shopapp.models import Shop, WebhookEvent
from shopapp.orders import order_for
from shopapp.webhooks import webhook_handler


@webhook_handler("orders/create")
@webhook_handler("orders/paid")
@webhook_handler("orders/fulfilled")
@webhook_handler("orders/cancelled")
def on_order(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order = order_for(shop, payload.get("id"))
    # Attribute before enrolling: a friend's first paid order must not make them look like an old customer.
    referral_attribute(order=order)
    advocate_enrol_for_order(order=order)
    referral_order_changed(order=order)
    advocate_invite_schedule(order=order)


@webhook_handler("fulfillments/create")
@webhook_handler("fulfillments/update")
@webhook_handler("refunds/create")
def on_order_change(shop: Shop | None, payload: dict, event: WebhookEvent) -> None:
    order = order_for(shop, payload.get("order_id"))
    referral_order_changed(order=order)
    advocate_invite_schedule(order=order)
