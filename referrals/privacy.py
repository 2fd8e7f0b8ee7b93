"""Referrals' answers to the compliance webhooks and the merchant's full export.

Redaction anonymises advocates and friends; the ledger's amounts stay (they are the
shop's accounting), tied to rows that no longer say who anyone was.
"""
from __future__ import annotations

import logging
import secrets

from referrals import discount_api
from referrals.landing import landing_cards_forget
from referrals.models import Advocate, Click, CreditEntry, ProgramSettings, Referral
from referrals.services import referral_link
from shopapp.admin_api import ShopifyError
from shopapp.jobs import enqueue
from shopapp.models import Shop
from shopapp.orders import customers_matching
from shopapp.registry import CustomerRef

log = logging.getLogger(__name__)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def referrals_customer_export(shop: Shop, ref: CustomerRef) -> dict:
    customers = list(customers_matching(shop, ref))
    advocates = Advocate.objects.filter(shop=shop, customer__in=customers)
    made = Referral.objects.filter(shop=shop, advocate__in=advocates).select_related("order")
    referred = Referral.objects.filter(shop=shop, friend__in=customers).select_related("order", "advocate")
    credit = CreditEntry.objects.filter(shop=shop, advocate__in=advocates).order_by("created_at")
    return {
        "advocates": [
            {"code": a.code, "link": referral_link(a), "status": a.status, "created_at": _iso(a.created_at),
             "invited_at": _iso(a.invited_at), "clicks": a.clicks.count()}
            for a in advocates
        ],
        "referrals_made": [
            {"order": r.order.name, "status": r.status, "reward": str(r.reward_amount), "currency": r.currency,
             "created_at": _iso(r.created_at)}
            for r in made
        ],
        "referred_by": [
            {"order": r.order.name, "advocate_code": r.advocate.code, "via": r.via, "created_at": _iso(r.created_at)}
            for r in referred
        ],
        "credit": [
            {"amount": str(e.amount), "currency": e.currency, "method": e.method, "status": e.status,
             "reference": e.shopify_ref, "created_at": _iso(e.created_at), "confirmed_at": _iso(e.confirmed_at)}
            for e in credit
        ],
    }


def referrals_customer_redact(shop: Shop, ref: CustomerRef) -> None:
    customers = customers_matching(shop, ref)
    Referral.objects.filter(shop=shop, friend__in=customers).update(friend=None)
    for advocate in Advocate.objects.filter(shop=shop, customer__in=customers):
        # The code carries the first name: replace it, and take the old one out of Shopify.
        old_gid = advocate.discount_gid
        Click.objects.filter(advocate=advocate).update(landing_path="")
        Click.objects.filter(advocate=advocate, own=True).update(ip_hash="", user_agent="")
        Advocate.objects.filter(pk=advocate.pk).update(
            code=f"GONE-{advocate.pk}-{secrets.token_hex(4).upper()}", status=Advocate.Status.PAUSED,
            discount_gid="", code_error="", invite_skip_reason="", invite_due_at=None,
        )
        landing_cards_forget(code=advocate.code)  # the cached landing page carries the first name
        if old_gid:
            enqueue(advocate_discount_delete_job, shop.pk, old_gid)


def advocate_discount_delete_job(shop_id: int, discount_gid: str) -> None:
    shop = Shop.objects.filter(pk=shop_id, uninstalled_at__isnull=True).first()
    if shop is None:
        return
    try:
        discount_api.discount_delete(shop, discount_gid)
    except ShopifyError:
        log.warning("could not delete redacted advocate's discount %s in %s", discount_gid, shop.domain, exc_info=True)


def referrals_shop_export(shop: Shop) -> dict:
    program = ProgramSettings.objects.filter(shop=shop).first()
    return {
        "program": {
            "enabled": program.enabled, "friend_offer": f"{program.friend_offer_value} {program.friend_offer_kind}",
            "reward": f"{program.reward_value} {program.reward_kind}", "hold_days": program.hold_days,
            "monthly_cap": str(program.monthly_cap) if program.monthly_cap else None,
        } if program else None,
        "advocates": [
            {"id": a.pk, "customer_id": a.customer.shopify_id, "code": a.code, "status": a.status,
             "created_at": _iso(a.created_at)}
            for a in Advocate.objects.filter(shop=shop).select_related("customer").order_by("pk").iterator()
        ],
        "clicks": [
            {"advocate_id": c.advocate_id, "at": _iso(c.at), "referrer_host": c.referrer_host, "own": c.own}
            for c in Click.objects.filter(shop=shop).order_by("pk").iterator()
        ],
        "referrals": [
            {"id": r.pk, "advocate_id": r.advocate_id, "order_id": r.order.shopify_id, "status": r.status,
             "via": r.via, "order_total": str(r.order_total), "reward": str(r.reward_amount), "currency": r.currency,
             "fraud_reasons": [f["reason"] for f in r.fraud_reasons], "decided_by": r.decided_by,
             "decided_at": _iso(r.decided_at), "created_at": _iso(r.created_at)}
            for r in Referral.objects.filter(shop=shop).select_related("order").order_by("pk").iterator()
        ],
        "credit_ledger": [
            {"key": e.key, "advocate_id": e.advocate_id, "amount": str(e.amount), "currency": e.currency,
             "method": e.method, "status": e.status, "reference": e.shopify_ref, "note": e.note,
             "created_at": _iso(e.created_at), "confirmed_at": _iso(e.confirmed_at)}
            for e in CreditEntry.objects.filter(shop=shop).order_by("pk").iterator()
        ],
    }

