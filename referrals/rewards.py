"""Rewards: held through the return window, approved, then paid once as store credit."""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from referrals.models import ZERO, ProgramSettings, Referral
from shopapp.models import Order

CENT = Decimal("0.01")


def reward_for(program: ProgramSettings, order: Order) -> Decimal:
    """What the advocate earns: a fixed credit, or a percent of what the friend kept (capped)."""
    if program.reward_kind == ProgramSettings.RewardKind.FIXED:
        return program.reward_value
    kept = max(order.subtotal - order.refunded, ZERO)
    amount = (kept * program.reward_value / 100).quantize(CENT, rounding=ROUND_DOWN)
    return min(amount, program.reward_cap) if program.reward_cap else amount


def hold_start(referral: Referral, order: Order, program: ProgramSettings) -> None:
    """The hold runs from fulfilment for the shop's return window."""
    if referral.hold_until is None and order.fulfilled_at:
        referral.hold_until = order.fulfilled_at + program.hold_days * settings.ADVOCATE_DAY
