"""Money against devstore's fault switches: whatever Shopify answers, its balance equals the ledger after the sweep."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from referrals.models import CreditEntry, Referral
from referrals.rewards import rewards_sweep
from shopapp import discounts
from shopapp.models import CreditAttempt
from tests.money.conftest import DEMO, shopify_balance, shopify_transactions
from tests.referrals.test_rewards import referral

pytestmark = pytest.mark.django_db

# Each fault as devstore plays it: nothing applied, applied then 504, applied then the
# connection drops, applied and answered after the client gave up.
FAULTS = ["fail_before", "fail_after", "reset_after", "delay_after"]


def _sweep_until_settled(now=None):
    """The first sweep meets the fault; the next ones run after the claim's lease, as the periodic sweep would."""
    start = now or timezone.now()
    rewards_sweep(now=start)
    for minutes in (3, 6):
        rewards_sweep(now=start + timedelta(minutes=minutes))


def _ledger(advocate) -> Decimal:
    return CreditEntry.objects.filter(advocate=advocate).confirmed().balance()


@pytest.mark.parametrize("fault", FAULTS)
def test_one_reward_under_a_fault_is_paid_exactly_once(shop, maya, devstore, fault):
    r = referral(shop, maya)
    devstore.fault(DEMO, "storeCreditAccountCredit", fault, seconds=1.0)
    _sweep_until_settled()
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("10.00")
    [paid] = shopify_transactions(devstore, maya.customer)
    assert CreditEntry.objects.get().shopify_ref.endswith(f"/{paid['id']}")


@pytest.mark.parametrize("fault", FAULTS)
def test_several_same_amount_rewards_under_faults_are_each_paid_once(shop, maya, devstore, fault):
    referrals = [referral(shop, maya) for _ in range(3)]
    devstore.fault(DEMO, "storeCreditAccountCredit", fault, times=2, seconds=1.0)
    _sweep_until_settled()
    assert {Referral.objects.get(pk=r.pk).status for r in referrals} == {Referral.Status.ISSUED}
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("30.00")
    assert len(shopify_transactions(devstore, maya.customer)) == 3
    refs = set(CreditEntry.objects.values_list("shopify_ref", flat=True))
    assert len(refs) == 3  # one transaction per entry, none counted twice


def test_a_failed_reward_is_not_taken_as_paid_by_a_later_one_of_the_same_amount(shop, maya, devstore):
    first, second = referral(shop, maya), referral(shop, maya)
    # The first credit fails before Shopify applies it; the second is paid in the same sweep.
    devstore.fault(DEMO, "storeCreditAccountCredit", "fail_before")
    rewards_sweep()
    assert shopify_balance(devstore, maya.customer) == Decimal("10.00")
    assert _ledger(maya) == Decimal("10.00")
    rewards_sweep(now=timezone.now() + timedelta(minutes=3))
    assert {Referral.objects.get(pk=r.pk).status for r in (first, second)} == {Referral.Status.ISSUED}
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("20.00")


def test_the_worker_killed_after_shopify_applied_the_credit_is_settled_by_the_sweep(shop, maya, devstore,
                                                                                    monkeypatch):
    referrals = [referral(shop, maya) for _ in range(2)]

    def killed(attempt, transaction_id):
        raise SystemExit("worker killed before the commit")

    monkeypatch.setattr(discounts, "_attempt_record", killed)
    with pytest.raises(SystemExit):
        rewards_sweep()
    monkeypatch.undo()
    assert shopify_balance(devstore, maya.customer) == Decimal("10.00") and _ledger(maya) == 0
    _sweep_until_settled(timezone.now() + timedelta(minutes=3))
    assert {Referral.objects.get(pk=r.pk).status for r in referrals} == {Referral.Status.ISSUED}
    assert shopify_balance(devstore, maya.customer) == _ledger(maya) == Decimal("20.00")
    assert CreditAttempt.objects.filter(sends=1).count() == 2  # the killed one was settled, not resent


@pytest.mark.parametrize("fault", FAULTS)
def test_a_store_credit_remedy_under_a_fault_is_given_exactly_once(shop, maya, devstore, fault, make_case):
    from reviews.cases.models import Remedy
    from reviews.cases.remedies import remedies_due, remedy_offer

    case = make_case(maya.customer)
    devstore.fault(DEMO, "storeCreditAccountCredit", fault, seconds=1.0)
    remedy = remedy_offer(case=case, kind="store_credit", amount=Decimal("15"), note="", actor="staff 1")
    for hours in (1, 2):
        remedies_due(now=timezone.now() + timedelta(hours=hours))
    remedy.refresh_from_db()
    assert remedy.status == Remedy.Status.DONE
    assert shopify_balance(devstore, maya.customer) == Decimal("15.00")
    assert len(shopify_transactions(devstore, maya.customer)) == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_a_discount_remedy_under_a_fault_makes_exactly_one_code(shop, maya, devstore, fault, make_case):
    from reviews.cases.models import Remedy
    from reviews.cases.remedies import remedies_due, remedy_offer

    case = make_case(maya.customer)
    devstore.fault(DEMO, "discountCodeBasicCreate", fault, seconds=1.0)
    remedy = remedy_offer(case=case, kind="discount", amount=Decimal("15"), note="", actor="staff 1")
    for hours in (1, 2):
        remedies_due(now=timezone.now() + timedelta(hours=hours))
    remedy.refresh_from_db()
    assert remedy.status == Remedy.Status.DONE
    [code] = [d for d in devstore.discount_codes(DEMO) if d["code"] == remedy.code]
    assert remedy.shopify_id.endswith(f"/{code['id']}")


@pytest.mark.parametrize("fault", FAULTS)
def test_a_reward_and_a_remedy_of_the_same_amount_never_share_one_transaction(shop, maya, devstore, fault, make_case):
    from reviews.cases.remedies import remedies_due, remedy_offer

    r = referral(shop, maya)
    devstore.fault(DEMO, "storeCreditAccountCredit", fault, times=2, seconds=1.0)
    rewards_sweep()
    remedy = remedy_offer(case=make_case(maya.customer), kind="store_credit", amount=Decimal("10"), note="",
                          actor="staff 1")
    for hours in (1, 3):
        remedies_due(now=timezone.now() + timedelta(hours=hours))
    _sweep_until_settled(timezone.now())
    remedy.refresh_from_db()
    assert Referral.objects.get(pk=r.pk).status == Referral.Status.ISSUED and remedy.status == "done"
    assert shopify_balance(devstore, maya.customer) == Decimal("20.00")
    assert len(shopify_transactions(devstore, maya.customer)) == 2

