"""Referrals' part of an order change; the platform stored the order first and hands over
the parsed event (registered in ReferralsConfig.ready, after reviews')."""
from __future__ import annotations

from referrals.attribution import referral_attribute
from referrals.invitations import advocate_invite_schedule
from referrals.reversals import reversal_check
from referrals.rewards import referral_order_changed
from referrals.services import advocate_enrol_for_order
from shopapp.registry import OrderEvent


def on_order_changed(event: OrderEvent) -> None:
    order = event.order
    if event.is_order_topic:
        # Attribute before enrolling: a friend's first paid order must not make them look like an old customer.
        referral_attribute(order=order)
        advocate_enrol_for_order(order=order)
    referral_order_changed(order=order)
    reversal_check(order=order)
    advocate_invite_schedule(order=order)
