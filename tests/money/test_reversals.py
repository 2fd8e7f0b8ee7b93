"""A refund after the reward was approved or paid, against devstore: taken back once, as far as
the advocate's store credit allows, the rest owed and paid from the next reward."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from referrals.models import CreditEntry, ProgramSettings, Referral
from referrals.reversals import reversals_sweep
from referrals.rewards import rewards_sweep
from tests.money.conftest import DEMO, shopify_balance, shopify_transactions
from tests.money.test_faults import FAULTS, _ledger, _sweep_until_settled
from tests.referrals.test_rewards import referral

pytestmark = pytest.mark.django_db

refund_ids = itertools.count(900)


def _refund(post_webhook, shop, r, amount="100.00"):
    post_webhook("refunds/create", {"id": next(refund_ids), "order_id": r.order.shopify_id,
                                    "created_at": "2026-12-01T10:00:00Z",
                                    "transactions": [{"kind": "refund", "status": "success", "amount": amount}]}, shop)


def _issued(shop, maya, **kw):
    r = referral(shop, maya, **kw)
    _sweep_until_settled()
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED
    return r


def _spend(devstore, customer, amount):
    devstore.store.store_credit(DEMO, customer.shopify_id, amount, "USD", sign=-1)


def test_a_refund_after_payment_takes_the_credit_back_once(shop, maya, devstore, post_webhook):
    r = _issued(shop, maya)
    _refund(post_webhook, shop, r)
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED and r.reversal_due_at is None
    assert "taken back" in r.void_reason
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("0.00")
    [debit] = CreditEntry.objects.filter(key__startswith=f"reversal:{r.pk}:")
    assert (debit.amount, debit.status, debit.method) == (Decimal("-10.00"), "confirmed", "store_credit")
    assert debit.shopify_ref
    # The same refund delivered again, another refund event, and the sweep: nothing more moves.
    _refund(post_webhook, shop, r)
    reversals_sweep(now=timezone.now() + timedelta(minutes=5))
    assert len(shopify_transactions(devstore, maya.customer)) == 2
    assert CreditEntry.objects.filter(referral=r).count() == 2


def test_a_refund_after_the_credit_was_spent_records_it_owed_and_nets_it_from_the_next_reward(
        shop, maya, devstore, post_webhook):
    r = _issued(shop, maya)
    _spend(devstore, maya.customer, "7.00")  # the advocate used 7 of the 10 at checkout
    _refund(post_webhook, shop, r)
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED
    debit = CreditEntry.objects.get(key__startswith=f"reversal:{r.pk}:")
    owed = CreditEntry.objects.get(key__startswith=f"owed:{r.pk}:")
    assert (debit.amount, owed.amount, owed.method) == (Decimal("-3.00"), Decimal("-7.00"), "offset")
    assert shopify_balance(devstore, maya.customer) == Decimal("0.00")
    assert CreditEntry.objects.filter(advocate=maya).owed() == Decimal("7.00")

    # The next reward pays the debt first: 7 netted, 3 credited in Shopify.
    nxt = referral(shop, maya)
    _sweep_until_settled(timezone.now() + timedelta(minutes=10))
    nxt.refresh_from_db()
    assert nxt.status == Referral.Status.ISSUED
    paid = CreditEntry.objects.get(key=f"reward:{nxt.pk}")
    offset = CreditEntry.objects.get(key=f"offset:{nxt.pk}")
    assert (paid.amount, offset.amount) == (Decimal("3.00"), Decimal("7.00"))
    assert shopify_balance(devstore, maya.customer) == Decimal("3.00")
    assert CreditEntry.objects.filter(advocate=maya).owed() == Decimal("0.00")


def test_a_debt_larger_than_the_next_reward_is_netted_over_several(shop, maya, devstore, post_webhook):
    r = _issued(shop, maya, reward="25.00")
    _spend(devstore, maya.customer, "25.00")
    _refund(post_webhook, shop, r)
    assert CreditEntry.objects.filter(advocate=maya).owed() == Decimal("25.00")
    first = referral(shop, maya)
    _sweep_until_settled(timezone.now() + timedelta(minutes=10))
    first.refresh_from_db()
    assert first.status == Referral.Status.ISSUED
    assert CreditEntry.objects.get(key=f"reward:{first.pk}").amount == Decimal("0.00")
    assert CreditEntry.objects.filter(advocate=maya).owed() == Decimal("15.00")
    assert shopify_balance(devstore, maya.customer) == Decimal("0.00")
    assert len([t for t in shopify_transactions(devstore, maya.customer) if Decimal(t["amount"]) > 0]) == 1


def test_a_refund_after_approval_before_payment_cancels_the_payment(shop, maya, devstore, post_webhook,
                                                                     monkeypatch):
    from referrals import rewards

    monkeypatch.setattr(rewards, "enqueue", lambda *a, **k: None)  # the payment job has not run yet
    r = referral(shop, maya)
    rewards.referral_approve(referral_id=r.pk)
    r.refresh_from_db()
    assert r.status == Referral.Status.APPROVED
    _refund(post_webhook, shop, r)
    _sweep_until_settled(timezone.now() + timedelta(minutes=5))
    r.refresh_from_db()
    assert r.status == Referral.Status.VOID and "before the reward was paid" in r.void_reason
    assert shopify_transactions(devstore, maya.customer) == []
    assert _ledger(maya) == Decimal("0.00")


def test_an_intent_sent_with_a_lost_answer_is_settled_then_reversed_not_paid_twice(shop, maya, devstore,
                                                                                   post_webhook):
    r = referral(shop, maya)
    devstore.fault(DEMO, "storeCreditAccountCredit", "fail_after")  # applied in Shopify, answered 5xx
    rewards_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.APPROVED  # the answer was lost: not known to be paid
    _refund(post_webhook, shop, r)
    r.refresh_from_db()
    assert r.reversal_due_at is not None  # waits for the send to settle, sends nothing
    later = timezone.now() + timedelta(minutes=3)
    rewards_sweep(now=later)
    reversals_sweep(now=later)
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED
    amounts = sorted(Decimal(t["amount"]) for t in shopify_transactions(devstore, maya.customer))
    assert amounts == [Decimal("-10.00"), Decimal("10.00")]
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("0.00")


@pytest.mark.parametrize("fault", FAULTS)
def test_a_debit_under_a_fault_is_taken_exactly_once(shop, maya, devstore, post_webhook, fault):
    r = _issued(shop, maya)
    devstore.fault(DEMO, "storeCreditAccountDebit", fault, seconds=1.0)
    _refund(post_webhook, shop, r)
    for minutes in (3, 6, 9):
        reversals_sweep(now=timezone.now() + timedelta(minutes=minutes))
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED and r.reversal_due_at is None
    debits = [t for t in shopify_transactions(devstore, maya.customer) if Decimal(t["amount"]) < 0]
    assert len(debits) == 1
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("0.00")


def test_a_refused_debit_is_recorded_owed(shop, maya, devstore, post_webhook, monkeypatch):
    from referrals import reversals

    r = _issued(shop, maya)
    # The balance read says 10, but the advocate spends it before the debit arrives.
    monkeypatch.setattr(reversals, "_balance", lambda referral: Decimal("10.00"))
    _spend(devstore, maya.customer, "10.00")
    _refund(post_webhook, shop, r)
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED
    debit = CreditEntry.objects.get(key__startswith=f"reversal:{r.pk}:")
    assert debit.status == "cancelled" and "refused" in debit.note
    assert CreditEntry.objects.filter(advocate=maya).owed() == Decimal("10.00")


def test_a_partial_refund_takes_back_the_difference_of_a_percent_reward(shop, maya, devstore, post_webhook):
    ProgramSettings.objects.create(shop=shop, reward_kind="percent", reward_value=Decimal("10"))
    r = _issued(shop, maya, reward="10.00", total="100.00")
    _refund(post_webhook, shop, r, amount="40.00")
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED and r.reversal_due_at is None
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("6.00")
    _refund(post_webhook, shop, r, amount="60.00")  # the rest of the order
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("0.00")
    assert CreditEntry.objects.filter(key__startswith=f"reversal:{r.pk}:").count() == 2


def test_a_partial_refund_leaves_a_fixed_reward_paid(shop, maya, devstore, post_webhook):
    r = _issued(shop, maya)
    _refund(post_webhook, shop, r, amount="40.00")
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED and r.reversal_due_at is None
    assert shopify_balance(devstore, maya.customer) == Decimal("10.00")


def test_nothing_is_sent_for_an_uninstalled_shop_until_it_comes_back(shop, maya, devstore, post_webhook):
    r = _issued(shop, maya)
    r.order.refunded = r.order.total
    r.order.save(update_fields=["refunded"])
    Referral.objects.filter(pk=r.pk).update(reversal_due_at=timezone.now())
    shop.uninstalled_at = timezone.now()
    shop.save(update_fields=["uninstalled_at"])
    reversals_sweep()
    assert len(shopify_transactions(devstore, maya.customer)) == 1
    shop.uninstalled_at = None
    shop.save(update_fields=["uninstalled_at"])
    reversals_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED
    assert shopify_balance(devstore, maya.customer) == Decimal("0.00")


def test_a_reward_paid_as_a_code_is_recorded_owed(shop, maya, devstore, post_webhook):
    devstore.store.shop(DEMO)["store_credit"] = False  # this shop has no store credit: the reward is a code
    r = _issued(shop, maya)
    assert CreditEntry.objects.get(key=f"reward:{r.pk}:code").status == "confirmed"
    _refund(post_webhook, shop, r)
    r.refresh_from_db()
    assert r.status == Referral.Status.REVERSED
    assert CreditEntry.objects.filter(advocate=maya).owed() == Decimal("10.00")
    assert not CreditEntry.objects.filter(key__startswith=f"reversal:{r.pk}:").exists()


def test_the_panel_shows_the_reversal_and_what_is_owed_and_another_shop_sees_nothing(
        shop, maya, devstore, post_webhook, panel_get):
    from tests.conftest import _make_shop

    r = _issued(shop, maya)
    _spend(devstore, maya.customer, "4.00")
    _refund(post_webhook, shop, r)
    page = panel_get(f"/app/referrals/{r.pk}/", shop).content.decode()
    assert "Reversed" in page and "taken back" in page
    assert "-6.00 USD" in page and "-4.00 USD" in page and "10.00 USD" in page
    assert "owes 4.00 USD" in page
    assert "refunded after the reward was paid" in page and "Decided by" not in page  # no merchant decided this
    other = _make_shop("other-shop.myshopify.com")
    assert panel_get(f"/app/referrals/{r.pk}/", other).status_code == 404


def test_the_advocate_is_told_once_what_was_taken_back_and_what_is_owed(shop, maya, devstore, post_webhook,
                                                                         mailoutbox):
    from referrals.notifications import advocate_news_sweep

    r = _issued(shop, maya)
    _spend(devstore, maya.customer, "4.00")
    mailoutbox.clear()
    _refund(post_webhook, shop, r)
    advocate_news_sweep()
    _refund(post_webhook, shop, r)
    told = [m for m in mailoutbox if "About your referral reward" in m.subject]
    assert len(told) == 1 and told[0].to == ["maya@example.com"]
    assert "taken $6.00 back" in told[0].body and "$4.00 could not be taken" in told[0].body
    assert "{{" not in told[0].body and "{%" not in told[0].body
