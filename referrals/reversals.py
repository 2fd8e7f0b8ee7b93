"""A refund after the reward was approved or paid: take back what the friend's order no longer earns.

The policy, in the order it applies:

- nothing paid yet (the credit intent never reached Shopify, or Shopify did not apply it):
  the intent is cancelled and the referral is void, as if the refund had come in the hold;
- paid as store credit: taken back with `storeCreditAccountDebit`, as far as the advocate's
  balance allows (shopapp.discounts.debit_once: sent once, settled from Shopify's own
  transactions after an ambiguous answer);
- what cannot be taken back (the advocate spent the credit, the reward was a discount code, or
  the customer is gone) is recorded as owed and paid from the advocate's next rewards
  (rewards._entry_open nets it).

Every step is a new ledger entry with a key per step (`reversal:<referral>:<n>` for a debit,
`owed:<referral>:<n>` for what is owed), written under the referral's lock, so a refund webhook
delivered twice, or a sweep and a webhook at once, reverse once. The referral keeps
`reversal_due_at` until the ledger is settled; the sweep drives it until then.
"""
from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from referrals import discount_api
from referrals.models import ZERO, CreditEntry, ProgramSettings, Referral
from referrals.notifications import reversal_advocate_tell
from referrals.rewards import _claim, _record_payment, _settle, reward_for, reward_key
from shopapp.admin_api import ShopifyError, ShopifyUserError
from shopapp.discounts import credit_balance, credit_settle, debit_once, discount_find
from shopapp.models import Order

log = logging.getLogger(__name__)

PAID_STATUSES = (Referral.Status.APPROVED, Referral.Status.ISSUED, Referral.Status.REVERSED)


def reversal_check(*, order: Order) -> Referral | None:
    """An order changed: if it now earns less than an approved or paid reward, start taking it back."""
    referral = Referral.objects.filter(order=order, status__in=PAID_STATUSES).first()
    if referral is None or _kept(referral) >= _paid_or_due(referral):
        return referral
    Referral.objects.filter(pk=referral.pk, reversal_due_at__isnull=True).update(reversal_due_at=timezone.now())
    return reward_reverse(referral_id=referral.pk)


def reversals_sweep(now: datetime | None = None) -> None:
    """The periodic sweep: drive every reversal whose ledger is not settled yet."""
    due = Referral.objects.filter(reversal_due_at__isnull=False, shop__uninstalled_at__isnull=True)
    for pk in list(due.order_by("reversal_due_at").values_list("pk", flat=True)[:200]):
        reward_reverse(referral_id=pk, now=now)


def reward_reverse(*, referral_id: int, now: datetime | None = None) -> Referral | None:
    """One pass at settling a reversal; safe to run any number of times, from anywhere."""
    now = now or timezone.now()
    referral = Referral.objects.select_related("shop", "order", "advocate__customer").filter(pk=referral_id).first()
    if referral is None or referral.reversal_due_at is None or not referral.shop.is_installed:
        return referral
    # 1. Know what was paid. After a full refund an unpaid intent is stopped (one in flight is
    # waited for); after a partial one the reward is paid as approved and the difference taken back.
    intents = _entries(referral, reward=True).filter(status=CreditEntry.Status.INTENT)
    if intents.exists() and _kept(referral) > 0:
        return referral
    for entry in intents:
        if not _intent_stop(entry, now):
            return referral
    # 2. Finish the debits already started.
    for entry in _entries(referral, reward=False).filter(status=CreditEntry.Status.INTENT):
        if not _debit(entry, now):
            return referral
    # 3. Record what is left to take back, then take it.
    balance = _balance(referral)
    entry = _reversal_record(referral, balance)
    if entry is not None and not _debit(entry, now):
        return referral
    _close(referral, now)
    referral.refresh_from_db()
    return referral


def _kept(referral: Referral) -> Decimal:
    """What the friend's order still earns after its refunds."""
    order = referral.order
    if order.is_refunded_or_cancelled:
        return ZERO
    program = ProgramSettings.for_shop(referral.shop)
    if program.reward_kind == ProgramSettings.RewardKind.PERCENT:
        return min(reward_for(program, order), referral.reward_amount)
    return referral.reward_amount


def _paid_or_due(referral: Referral) -> Decimal:
    """What the reward pays or will pay, less what was already taken back."""
    reward = _entries(referral, reward=True).exclude(status=CreditEntry.Status.CANCELLED)
    if not reward.exists():
        return referral.reward_amount
    return (reward.aggregate(s=Sum("amount"))["s"] or ZERO) + _taken_back(referral)


def _entries(referral: Referral, *, reward: bool):
    keys = Q(key=reward_key(referral)) | Q(key=f"{reward_key(referral)}:code") | Q(key=f"offset:{referral.pk}") \
        if reward else Q(key__startswith=f"reversal:{referral.pk}:") | Q(key__startswith=f"owed:{referral.pk}:")
    return CreditEntry.objects.filter(keys, shop=referral.shop, referral=referral)


def _taken_back(referral: Referral) -> Decimal:
    """The reversal so far (negative): debits made or in flight, and what was recorded as owed."""
    steps = _entries(referral, reward=False).exclude(status=CreditEntry.Status.CANCELLED)
    return steps.aggregate(s=Sum("amount"))["s"] or ZERO


def _intent_stop(entry: CreditEntry, now: datetime) -> bool:
    """Settle a reward intent without paying anything more. False: a send is in flight, come back later."""
    if not _claim(entry, now):
        return False  # a worker is paying it right now; the sweep looks again after its lease
    try:
        if entry.method == CreditEntry.Method.STORE_CREDIT:
            ref = credit_settle(shop=entry.shop, key=entry.key, now=now)
            if ref:
                _record_payment(entry, ref)
                return True
        elif entry.attempts > 1:
            # A code whose creation an earlier attempt may have applied: it exists only if Shopify made it.
            title = discount_api.reward_discount_input(code=entry.shopify_ref, customer=entry.advocate.customer,
                                                 amount=entry.amount)["title"]
            if discount_find(shop=entry.shop, code=entry.shopify_ref, title=title):
                _settle(entry, CreditEntry.Status.CONFIRMED)
                return True
    except ShopifyError:
        log.warning("reward entry %s could not be settled yet; the sweep retries", entry.pk, exc_info=True)
        return False
    _settle(entry, CreditEntry.Status.CANCELLED, note="Not paid: the friend's order was refunded first.")
    return True


def _balance(referral: Referral) -> Decimal:
    """The advocate's store credit in Shopify now (read before the lock: a network call)."""
    customer = referral.advocate.customer
    if customer.redacted_at or not customer.shopify_id:
        return ZERO
    try:
        return credit_balance(shop=referral.shop, customer_gid=customer.gid, currency=referral.currency)
    except ShopifyError:
        log.warning("store credit balance for referral %s unreadable; recording it as owed", referral.pk, exc_info=True)
        return ZERO


def _reversal_record(referral: Referral, balance: Decimal) -> CreditEntry | None:
    """Under the referral's lock, write what is left to take back: a debit up to what store
    credit paid and the balance allows, the rest owed. Returns the debit entry to send, if any."""
    with transaction.atomic():
        Referral.objects.select_for_update().filter(pk=referral.pk).first()
        reward = _entries(referral, reward=True).filter(status=CreditEntry.Status.CONFIRMED)
        paid = reward.aggregate(s=Sum("amount"))["s"] or ZERO
        due = paid + _taken_back(referral) - _kept(referral)
        if due <= 0:
            return None
        by_credit = reward.filter(method=CreditEntry.Method.STORE_CREDIT).aggregate(s=Sum("amount"))["s"] or ZERO
        debited = -(_entries(referral, reward=False).filter(method=CreditEntry.Method.STORE_CREDIT)
                    .exclude(status=CreditEntry.Status.CANCELLED).aggregate(s=Sum("amount"))["s"] or ZERO)
        debit = max(min(due, by_credit - debited, balance), ZERO)
        step = _entries(referral, reward=False).count() + 1
        common = {"shop": referral.shop, "advocate_id": referral.advocate_id, "referral": referral,
                  "currency": referral.currency}
        try:
            if due - debit > 0:
                _owed_record(referral, due - debit, step, "what could not be taken back from store credit")
            if debit <= 0:
                return None
            return CreditEntry.objects.create(
                key=f"reversal:{referral.pk}:{step}", method=CreditEntry.Method.STORE_CREDIT, amount=-debit,
                note=f"Taken back: the friend's order {referral.order.name} was refunded", **common)
        except IntegrityError:
            return None  # another worker recorded this step a moment ago


def _owed_record(referral: Referral, amount: Decimal, step: int | str, why: str) -> CreditEntry:
    return CreditEntry.objects.create(
        shop=referral.shop, advocate_id=referral.advocate_id, referral=referral, key=f"owed:{referral.pk}:{step}",
        method=CreditEntry.Method.OFFSET, amount=-amount, currency=referral.currency,
        status=CreditEntry.Status.CONFIRMED, confirmed_at=timezone.now(),
        note=f"Owed after the refund of order {referral.order.name}: {why}; paid from the next rewards"[:255])


def _debit(entry: CreditEntry, now: datetime) -> bool:
    """Send a debit once. False: Shopify's answer is not known yet, the sweep comes back."""
    if not _claim(entry, now):
        return False
    customer = entry.advocate.customer
    try:
        ref = debit_once(shop=entry.shop, key=entry.key, customer_gid=customer.gid, amount=-entry.amount,
                         currency=entry.currency, now=now)
    except ShopifyUserError as exc:
        # Refused (the advocate spent the credit since the balance was read): owed instead.
        with transaction.atomic():
            _settle(entry, CreditEntry.Status.CANCELLED, note=f"Shopify refused the debit: {exc}")
            _owed_record(entry.referral, -entry.amount, f"{entry.key.rsplit(':', 1)[1]}:refused",
                         "Shopify refused the debit")
        return True
    except ShopifyError:
        log.warning("debit for entry %s not confirmed; the sweep retries", entry.pk, exc_info=True)
        return False
    _settle(entry, CreditEntry.Status.CONFIRMED, ref=ref)
    return True


def _close(referral: Referral, now: datetime) -> None:
    """The ledger is settled: say what happened on the referral and stop the sweep."""
    paid = _entries(referral, reward=True).filter(status=CreditEntry.Status.CONFIRMED).exists()
    full = referral.order.is_refunded_or_cancelled
    why = "cancelled" if referral.order.cancelled_at else "refunded"
    fields = {"reversal_due_at": None}
    if full and not paid:
        fields.update(status=Referral.Status.VOID, decided_at=now,
                      void_reason=f"The order was {why} after approval, before the reward was paid.")
    elif full:
        fields.update(status=Referral.Status.REVERSED, decided_at=now,
                      void_reason=f"The order was {why} after the reward was paid: the reward was taken back.")
    Referral.objects.filter(pk=referral.pk).update(**fields)
    if fields.get("status") == Referral.Status.REVERSED:
        reversal_advocate_tell(referral_id=referral.pk)
