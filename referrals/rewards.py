"""Rewards: held through the return window, approved, then paid once as store credit.

pending -> (hold over, order kept) -> approved -> issued. The ledger entry is written as an
intent before Shopify is called, and the credit goes through shopapp.discounts: an ambiguous
answer, or a crash between Shopify's answer and our write, is settled on retry from Shopify's
own transactions, one to one, never by paying again and never by a balance delta.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from referrals import discount_api
from referrals.models import ZERO, Advocate, CreditEntry, ProgramSettings, Referral
from shopapp.admin_api import ShopifyError, ShopifyUserError
from shopapp.discounts import STORE_CREDIT_UNAVAILABLE, credit_once, discount_ensure
from shopapp.flow import flow_trigger_queue
from shopapp.jobs import enqueue
from shopapp.languages import money_format, shopper_language
from shopapp.mail import owed_email_send, unsubscribe_url
from shopapp.models import Order

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
CAP_WINDOW_DAYS = 30  # "monthly": a rolling 30 days, so it compresses with ADVOCATE_DAY like the hold
# A worker that claimed an entry and died leaves it claimed this long (real time: Shopify calls do not compress).
ISSUE_LEASE = timedelta(minutes=2)
OPEN = (Referral.Status.PENDING, Referral.Status.FLAGGED)
REWARD_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


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


def referral_order_changed(*, order: Order) -> Referral | None:
    """An order webhook (fulfilled, refunded, cancelled): start the hold, void, or lower a percent reward."""
    referral = Referral.objects.filter(order=order).first()
    if referral is None:
        return None
    open_rows = Referral.objects.filter(pk=referral.pk, status__in=OPEN)
    if order.is_refunded_or_cancelled:
        reason = "The order was cancelled." if order.cancelled_at else "The order was refunded."
        open_rows.update(status=Referral.Status.VOID, void_reason=reason, decided_at=timezone.now())
    else:
        program = ProgramSettings.for_shop(order.shop)
        if program.reward_kind == ProgramSettings.RewardKind.PERCENT:
            # Only ever lower: a partial refund shrinks what the friend kept.
            kept_reward = reward_for(program, order)
            open_rows.filter(reward_amount__gt=kept_reward).update(reward_amount=kept_reward)
        if referral.hold_until is None and order.fulfilled_at:
            hold_start(referral, order, program)
            Referral.objects.filter(pk=referral.pk, hold_until__isnull=True).update(hold_until=referral.hold_until)
    referral.refresh_from_db()
    return referral


def _cap_window(now: datetime) -> datetime:
    return now - CAP_WINDOW_DAYS * settings.ADVOCATE_DAY


def referral_approve(*, referral_id: int, now: datetime | None = None) -> Referral | None:
    """End a finished hold: void a refunded order, wait for room under the monthly cap, or approve."""
    now = now or timezone.now()
    with transaction.atomic():
        referral = Referral.objects.select_for_update().select_related("order", "shop").filter(pk=referral_id).first()
        if referral is None or referral.status != Referral.Status.PENDING or not referral.hold_until \
                or referral.hold_until > now:
            return referral
        # One approval per advocate at a time: the cap is read and used under this lock.
        Advocate.objects.select_for_update().filter(pk=referral.advocate_id).first()
        order = referral.order
        if order.is_refunded_or_cancelled:
            referral.status = Referral.Status.VOID
            referral.void_reason = "The order was cancelled." if order.cancelled_at else "The order was refunded."
            referral.decided_at = now
            referral.save(update_fields=["status", "void_reason", "decided_at"])
            return referral
        program = ProgramSettings.for_shop(referral.shop)
        amount = referral.reward_amount
        if program.monthly_cap:
            amount = min(amount, program.monthly_cap)
            recent = Referral.objects.filter(
                advocate_id=referral.advocate_id, approved_at__gt=_cap_window(now),
                status__in=[Referral.Status.APPROVED, Referral.Status.ISSUED],
            )
            used = recent.aggregate(s=Sum("reward_amount"))["s"] or ZERO
            if used + amount > program.monthly_cap:
                # Paid in a later month, when earlier rewards leave the window; never dropped.
                oldest = recent.aggregate(m=Min("approved_at"))["m"]
                referral.hold_until = oldest + CAP_WINDOW_DAYS * settings.ADVOCATE_DAY
                referral.decision_note = f"Monthly cap of {program.monthly_cap:.2f} {referral.currency} reached: waits for next month."
                referral.save(update_fields=["hold_until", "decision_note"])
                return referral
        if amount <= 0:
            referral.status = Referral.Status.VOID
            referral.void_reason = "Nothing left to reward after refunds."
            referral.decided_at = now
            referral.save(update_fields=["status", "void_reason", "decided_at"])
            return referral
        referral.status = Referral.Status.APPROVED
        referral.approved_at = now
        referral.reward_amount = amount
        referral.save(update_fields=["status", "approved_at", "reward_amount"])
        enqueue(reward_issue_job, referral.pk)
    return referral


def rewards_sweep(now: datetime | None = None) -> None:
    """The periodic sweep: start missed holds, approve finished ones, re-drive unpaid approvals."""
    now = now or timezone.now()
    unheld = Referral.objects.filter(status=Referral.Status.PENDING, hold_until__isnull=True,
                                     order__fulfilled_at__isnull=False).select_related("order")
    for referral in unheld[:500]:
        referral_order_changed(order=referral.order)
    due = Referral.objects.filter(status=Referral.Status.PENDING, hold_until__lte=now,
                                  shop__uninstalled_at__isnull=True)
    for pk in list(due.order_by("hold_until").values_list("pk", flat=True)[:500]):
        referral_approve(referral_id=pk, now=now)
    unpaid = Referral.objects.filter(status=Referral.Status.APPROVED, shop__uninstalled_at__isnull=True).exclude(
        credit_entries__status=CreditEntry.Status.INTENT, credit_entries__attempted_at__gt=now - ISSUE_LEASE)
    for pk in list(unpaid.values_list("pk", flat=True)[:200]):
        reward_issue(referral_id=pk, now=now)
    unsent = CreditEntry.objects.filter(method=CreditEntry.Method.DISCOUNT_CODE, status=CreditEntry.Status.CONFIRMED,
                                        notified_at__isnull=True, advocate__customer__redacted_at__isnull=True) \
        .exclude(advocate__customer__email="").select_related("shop", "advocate__customer")
    for entry in unsent[:200]:
        reward_code_email(entry=entry)


def reward_issue_job(referral_id: int) -> None:
    reward_issue(referral_id=referral_id)


def reward_issue(*, referral_id: int, now: datetime | None = None) -> CreditEntry | None:
    """Pay an approved reward once: store credit, or an emailed code where the shop has no store credit."""
    now = now or timezone.now()
    referral = Referral.objects.select_related("shop", "advocate__customer").filter(pk=referral_id).first()
    if referral is None or referral.status != Referral.Status.APPROVED:
        return None
    if referral.reversal_due_at and referral.order.is_refunded_or_cancelled:
        return None  # refunded after approval: referrals.reversals stops the payment instead
    entry = _live_entry(referral)
    for _ in range(2):  # a store credit refusal hands over to the code entry once
        if entry.status != CreditEntry.Status.INTENT or not _claim(entry, now):
            break
        entry = _pay_code(entry) if entry.method == CreditEntry.Method.DISCOUNT_CODE else _pay_credit(entry, now)
    if entry.status == CreditEntry.Status.CONFIRMED:
        with transaction.atomic():
            issued = Referral.objects.filter(pk=referral.pk, status=Referral.Status.APPROVED).update(
                status=Referral.Status.ISSUED, issued_at=entry.confirmed_at or now)
            if issued:
                _issued_flow(referral, entry)
        if entry.method == CreditEntry.Method.DISCOUNT_CODE:
            reward_code_email(entry=entry)
    return entry


def _issued_flow(referral: Referral, entry: CreditEntry) -> None:
    advocate = referral.advocate.customer
    flow_trigger_queue(shop=referral.shop, handle="advocate-reward-issued", key=f"reward-issued:{referral.pk}",
                       payload={"customer_id": None if advocate.redacted_at else advocate.shopify_id,
                                "order_id": referral.order.shopify_id, "Reward amount": entry.amount,
                                "Currency": entry.currency,
                                "Paid as": "discount code" if entry.method == CreditEntry.Method.DISCOUNT_CODE
                                else "store credit"},
                       customer_shopify_id=None if advocate.redacted_at else advocate.shopify_id)


def reward_key(referral: Referral) -> str:
    return f"reward:{referral.pk}"


def _live_entry(referral: Referral) -> CreditEntry:
    """The entry paying this reward: the code fallback once store credit was refused, else the credit intent."""
    fallback = CreditEntry.objects.filter(shop=referral.shop, key=f"{reward_key(referral)}:code").first()
    if fallback:
        return fallback
    entry = CreditEntry.objects.filter(shop=referral.shop, key=reward_key(referral)).first()
    return entry or _entry_open(referral)


def _entry_open(referral: Referral) -> CreditEntry:
    """Write the reward's intent, first paying from it what a refunded reward left owed."""
    with transaction.atomic():
        # The advocate's lock: two rewards never net the same debt.
        Advocate.objects.select_for_update().filter(pk=referral.advocate_id).first()
        entry = CreditEntry.objects.filter(shop=referral.shop, key=reward_key(referral)).first()
        if entry:
            return entry
        netted = min(CreditEntry.objects.filter(advocate_id=referral.advocate_id).owed(), referral.reward_amount)
        if netted > 0:
            CreditEntry.objects.create(
                shop=referral.shop, advocate_id=referral.advocate_id, referral=referral, key=f"offset:{referral.pk}",
                method=CreditEntry.Method.OFFSET, amount=netted, currency=referral.currency,
                status=CreditEntry.Status.CONFIRMED, confirmed_at=timezone.now(),
                note=f"Paid from the reward for order {referral.order.name} towards what a refund left owed")
        amount = referral.reward_amount - netted
        settled = {"status": CreditEntry.Status.CONFIRMED, "confirmed_at": timezone.now()} if amount <= 0 else {}
        return CreditEntry.objects.create(
            shop=referral.shop, advocate_id=referral.advocate_id, referral=referral, key=reward_key(referral),
            method=CreditEntry.Method.STORE_CREDIT, amount=amount, currency=referral.currency,
            note=(f"Referral reward for order {referral.order.name}"
                  + (f", less {netted:.2f} owed from a refund" if netted > 0 else ""))[:255],
            **settled)


def _claim(entry: CreditEntry, now: datetime) -> bool:
    """Only one worker pays an entry; a claim left by a dead worker lapses after ISSUE_LEASE."""
    claimed = CreditEntry.objects.filter(
        Q(attempted_at__isnull=True) | Q(attempted_at__lte=now - ISSUE_LEASE), pk=entry.pk,
        status=CreditEntry.Status.INTENT,
    ).update(attempts=F("attempts") + 1, attempted_at=now)
    entry.refresh_from_db()
    return bool(claimed)


def _settle(entry: CreditEntry, status: str, *, ref: str = "", note: str = "") -> CreditEntry:
    entry.status = status
    entry.shopify_ref = ref or entry.shopify_ref
    entry.note = (note or entry.note)[:255]
    entry.confirmed_at = timezone.now() if status == CreditEntry.Status.CONFIRMED else None
    entry.save(update_fields=["status", "shopify_ref", "note", "confirmed_at"])
    return entry


def _pay_credit(entry: CreditEntry, now: datetime) -> CreditEntry:
    try:
        # Settled against Shopify's own transactions before it is ever sent again (shopapp.discounts).
        ref = credit_once(shop=entry.shop, key=entry.key, customer_gid=entry.advocate.customer.gid,
                          amount=entry.amount, currency=entry.currency, now=now)
    except ShopifyUserError as exc:
        codes = {e.get("code") for e in exc.errors}
        if codes & STORE_CREDIT_UNAVAILABLE:
            return _fall_back_to_code(entry, str(exc))
        return _settle(entry, CreditEntry.Status.CANCELLED, note=f"Shopify refused the credit: {exc}")
    except ShopifyError:
        log.warning("store credit for entry %s not confirmed; the sweep retries", entry.pk, exc_info=True)
        return entry
    return _record_payment(entry, ref)


def _record_payment(entry: CreditEntry, ref: str) -> CreditEntry:
    """The database write after Shopify paid (the step a crash can separate from the call)."""
    return _settle(entry, CreditEntry.Status.CONFIRMED, ref=ref)


def _fall_back_to_code(entry: CreditEntry, why: str) -> CreditEntry:
    """Nothing was paid: cancel the credit and open an equal code entry, in one transaction."""
    with transaction.atomic():
        _settle(entry, CreditEntry.Status.CANCELLED, note=f"Store credit unavailable ({why}); a code is emailed instead.")
        code_entry, _ = CreditEntry.objects.get_or_create(
            shop=entry.shop, key=f"{entry.key}:code",
            defaults={"advocate": entry.advocate, "referral": entry.referral, "method": CreditEntry.Method.DISCOUNT_CODE,
                      "amount": entry.amount, "currency": entry.currency, "shopify_ref": reward_code(entry.key),
                      "note": "Referral reward as a discount code"},
        )
    return code_entry


def reward_code(key: str) -> str:
    """The same unguessable code for the same ledger key, so a retry can look it up."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"reward-code:{key}".encode(), hashlib.sha256).digest()
    return "THANKS-" + "".join(REWARD_CODE_ALPHABET[b % len(REWARD_CODE_ALPHABET)] for b in digest[:8])


def _pay_code(entry: CreditEntry) -> CreditEntry:
    data = discount_api.reward_discount_input(code=entry.shopify_ref, customer=entry.advocate.customer, amount=entry.amount)
    try:
        discount_ensure(shop=entry.shop, data=data, look_first=entry.attempts > 1)
    except ShopifyUserError as exc:
        return _settle(entry, CreditEntry.Status.CANCELLED, note=f"Shopify refused the reward code: {exc}")
    except ShopifyError:
        log.warning("reward code for entry %s not confirmed; the sweep retries", entry.pk, exc_info=True)
        return entry
    return _settle(entry, CreditEntry.Status.CONFIRMED)


def reward_code_email(*, entry: CreditEntry) -> bool:
    """Tell the advocate their reward code, once (claimed by notified_at)."""
    customer = entry.advocate.customer
    if not customer.email or customer.redacted_at:
        return False
    claimed = CreditEntry.objects.filter(pk=entry.pk, notified_at__isnull=True,
                                         status=CreditEntry.Status.CONFIRMED).update(notified_at=timezone.now())
    if not claimed:
        return False
    shop = entry.shop
    with translation.override(shopper_language(shop, customer=customer)):
        context = {"shop": shop, "shop_name": shop.name or shop.domain, "first_name": customer.first_name,
                   "code": entry.shopify_ref, "amount": money_format(entry.amount, entry.currency),
                   "unsubscribe": unsubscribe_url(customer)}
        return owed_email_send(
            shop=shop, customer=customer,
            subject=_("Your %(amount)s reward from %(shop)s") % {"amount": context["amount"], "shop": context["shop_name"]},
            text=render_to_string("referrals/email/reward_code.txt", context),
            html=render_to_string("referrals/email/reward_code.html", context),
            what=f"reward code email for entry {entry.pk}",
            release=lambda: CreditEntry.objects.filter(pk=entry.pk).update(notified_at=None),
        )

