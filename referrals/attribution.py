"""Which advocate an order belongs to: the discount code first, then the link's `ref`,
then the cart's note attributes. One referral per order, however often the webhook comes."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.db import IntegrityError, transaction

from referrals.fraud import fraud_reasons
from referrals.models import Advocate, ProgramSettings, Referral
from referrals.rewards import hold_start, reward_for
from shopapp.flow import flow_trigger_queue
from shopapp.models import Order

NOTE_KEYS = {"ref", "referral", "referral_code", "advocate_code"}


def _candidate_codes(order: Order) -> list[tuple[str, str]]:
    """(code, via) in the order attribution trusts them."""
    found = [(str(d.get("code", "")), Referral.Via.CODE) for d in order.discount_codes or []]
    landing = urlsplit(order.landing_site or "")
    found += [(v, Referral.Via.LINK) for v in parse_qs(landing.query).get("ref", [])]
    if landing.path.startswith("/discount/"):
        found.append((landing.path.removeprefix("/discount/").split("/")[0], Referral.Via.LINK))
    for attribute in order.note_attributes or []:
        if isinstance(attribute, dict) and str(attribute.get("name", "")).lower() in NOTE_KEYS:
            found.append((str(attribute.get("value", "")), Referral.Via.NOTE))
    return [(c.strip().upper(), via) for c, via in found if c and c.strip()]


def _advocate_for(order: Order) -> tuple[Advocate, str] | None:
    candidates = _candidate_codes(order)
    if not candidates:
        return None
    advocates = {
        a.code: a for a in Advocate.objects.filter(shop=order.shop, code__in=[c for c, _ in candidates])
        .select_related("customer")
    }
    # Several codes on one order: the first one that is a referral code wins; others are the shop's own.
    for code, via in candidates:
        advocate = advocates.get(code)
        if advocate is not None and advocate.status == Advocate.Status.ACTIVE:
            return advocate, via
    return None


def referral_attribute(*, order: Order) -> Referral | None:
    """The order's referral, created once, with every fraud rule that fired."""
    existing = Referral.objects.filter(order=order).first()
    if existing is not None:
        return existing
    program = ProgramSettings.for_shop(order.shop)
    if not program.enabled or order.cancelled_at:
        return None
    found = _advocate_for(order)
    if found is None:
        return None
    advocate, via = found
    reasons = fraud_reasons(advocate, order, program)
    referral = Referral(
        shop=order.shop, advocate=advocate, order=order, friend=order.customer, via=via,
        status=Referral.Status.FLAGGED if reasons else Referral.Status.PENDING, fraud_reasons=reasons,
        order_total=order.total, reward_amount=reward_for(program, order), currency=order.shop.currency,
    )
    hold_start(referral, order, program)
    try:
        with transaction.atomic():
            referral.save()
            friend = order.customer if order.customer_id and not order.customer.redacted_at else None
            flow_trigger_queue(shop=order.shop, handle="advocate-referral-attributed", key=f"referral:{referral.pk}",
                               payload={"customer_id": friend.shopify_id if friend else None, "order_id": order.shopify_id,
                                        "Advocate customer id": advocate.customer.shopify_id,
                                        "Reward amount": referral.reward_amount, "Currency": referral.currency},
                               customer_shopify_id=friend.shopify_id if friend else None)
    except IntegrityError:  # a concurrent delivery of the same order got there first
        return Referral.objects.get(order=order)
    return referral
