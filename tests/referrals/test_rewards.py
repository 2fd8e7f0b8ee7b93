"""Rewards through their states: the hold, approval, voiding, lowering, the cap, the merchant's decision."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from referrals.models import Advocate, CreditEntry, ProgramSettings, Referral
from referrals.rewards import CAP_WINDOW_DAYS, rewards_sweep
from referrals.services import referral_decide
from tests.referrals.helpers import customer, order

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


class StoreCredit:
    """Shopify's store credit accounts as the fake answers them: balances that really move, and
    the transactions that moved them, newest first."""

    def __init__(self, fake):
        self.balances: dict[str, Decimal] = {}
        self.transactions: dict[str, list[dict]] = {}
        fake.responders["storeCreditAccountCredit"] = self.credit
        fake.responders["customer"] = self.customer

    def add(self, customer_gid: str, amount: Decimal) -> dict:
        """A credit as Shopify records it (also one the merchant gives by hand)."""
        self.balances[customer_gid] = self.balances.get(customer_gid, Decimal("0")) + amount
        listed = self.transactions.setdefault(customer_gid, [])
        transaction = {"id": f"gid://shopify/StoreCreditAccountCreditTransaction/{sum(map(len, self.transactions.values())) + 1}",
                       "amount": {"amount": str(amount), "currencyCode": "USD"}, "createdAt": timezone.now().isoformat()}
        listed.insert(0, transaction)
        return transaction

    def credit(self, variables):
        transaction = self.add(variables["id"], Decimal(variables["creditInput"]["creditAmount"]["amount"]))
        return {"storeCreditAccountTransaction": transaction, "userErrors": []}

    def customer(self, variables):
        balance = self.balances.get(variables["id"])
        nodes = [] if balance is None else [
            {"id": "gid://shopify/StoreCreditAccount/1", "balance": {"amount": str(balance), "currencyCode": "USD"},
             "transactions": {"nodes": self.transactions[variables["id"]]}}]
        return {"storeCreditAccounts": {"nodes": nodes}}


@pytest.fixture
def credit(shop, fake_shopify):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    return StoreCredit(fake_shopify)


@pytest.fixture
def maya(shop):
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya"), code="MAYA-7K2Q",
                                   code_state=Advocate.CodeState.CREATED)


def referral(shop, advocate, *, reward="10.00", total="100.00", fulfilled_days_ago=31, status=Referral.Status.PENDING,
             hold_days=30):
    now = timezone.now()
    fulfilled = now - fulfilled_days_ago * DAY if fulfilled_days_ago is not None else None
    friend_order = order(shop, customer(shop, first_name="Sam"), codes=[advocate.code], total=total, fulfilled_at=fulfilled)
    return Referral.objects.create(
        shop=shop, advocate=advocate, order=friend_order, friend=friend_order.customer, via=Referral.Via.CODE,
        status=status, order_total=Decimal(total), reward_amount=Decimal(reward), currency=shop.currency,
        hold_until=fulfilled + hold_days * DAY if fulfilled else None,
    )


def test_sweep_after_the_hold_approves_and_issues_store_credit_once(shop, maya, credit, fake_shopify,
                                                                     django_capture_on_commit_callbacks):
    ProgramSettings.for_shop(shop)
    r = referral(shop, maya)
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED and r.approved_at and r.issued_at
    [entry] = CreditEntry.objects.filter(advocate=maya)
    assert (entry.key, entry.status, entry.amount, entry.currency) == (f"reward:{r.pk}", "confirmed", Decimal("10.00"), "USD")
    assert entry.shopify_ref == "gid://shopify/StoreCreditAccountCreditTransaction/1"
    assert credit.balances[maya.customer.gid] == Decimal("10.00")
    [call] = fake_shopify.calls_to("storeCreditAccountCredit")
    assert call["variables"]["creditInput"]["creditAmount"] == {"amount": "10.00", "currencyCode": "USD"}
    assert call["variables"]["id"] == maya.customer.gid

    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep(now=timezone.now() + timedelta(hours=1))
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1
    assert maya.balance() == Decimal("10.00")


def test_a_hold_that_is_not_over_pays_nothing(shop, maya, credit, fake_shopify):
    r = referral(shop, maya, fulfilled_days_ago=5)
    unfulfilled = referral(shop, maya, fulfilled_days_ago=None)
    rewards_sweep()
    assert {x.status for x in Referral.objects.filter(pk__in=[r.pk, unfulfilled.pk])} == {Referral.Status.PENDING}
    assert not fake_shopify.calls_to("storeCreditAccountCredit")
    assert not CreditEntry.objects.exists()


def test_fulfilment_webhook_starts_the_hold(shop, maya, post_webhook):
    ProgramSettings.objects.create(shop=shop, hold_days=14)
    r = referral(shop, maya, fulfilled_days_ago=None)
    post_webhook("fulfillments/create", {"id": 1, "order_id": r.order.shopify_id, "status": "success",
                                         "created_at": "2026-11-20T10:00:00Z"}, shop)
    r.refresh_from_db()
    r.order.refresh_from_db()
    assert r.hold_until == r.order.fulfilled_at + 14 * DAY


def test_full_refund_during_the_hold_voids_the_reward(shop, maya, credit, fake_shopify, post_webhook):
    r = referral(shop, maya, fulfilled_days_ago=3)
    post_webhook("refunds/create", {"id": 77, "order_id": r.order.shopify_id, "created_at": "2026-11-22T10:00:00Z",
                                    "transactions": [{"kind": "refund", "status": "success", "amount": "100.00"}]}, shop)
    r.refresh_from_db()
    assert r.status == Referral.Status.VOID and "refunded" in r.void_reason
    rewards_sweep(now=timezone.now() + 60 * DAY)
    r.refresh_from_db()
    assert r.status == Referral.Status.VOID
    assert not CreditEntry.objects.exists()
    assert not fake_shopify.calls_to("storeCreditAccountCredit")


def test_cancellation_during_the_hold_voids_the_reward(shop, maya, credit, post_webhook):
    from tests.referrals.helpers import order_payload

    r = referral(shop, maya, fulfilled_days_ago=3)
    payload = order_payload(order_id=r.order.shopify_id, codes=[maya.code], total="100.00")
    payload.update({"cancelled_at": "2026-11-22T10:00:00Z", "financial_status": "refunded"})
    post_webhook("orders/cancelled", payload, shop)
    r.refresh_from_db()
    assert r.status == Referral.Status.VOID and "cancelled" in r.void_reason


def test_refund_found_when_the_hold_ends_voids_instead_of_paying(shop, maya, credit, fake_shopify):
    r = referral(shop, maya)
    r.order.refunded = r.order.total
    r.order.save()
    rewards_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.VOID
    assert not fake_shopify.calls_to("storeCreditAccountCredit")


def test_partial_refund_lowers_a_percent_reward_and_the_lower_amount_is_paid(shop, maya, credit, post_webhook,
                                                                            django_capture_on_commit_callbacks):
    ProgramSettings.objects.create(shop=shop, reward_kind="percent", reward_value=Decimal("10"))
    r = referral(shop, maya, reward="10.00", total="100.00", fulfilled_days_ago=3)
    post_webhook("refunds/create", {"id": 78, "order_id": r.order.shopify_id, "created_at": "2026-11-22T10:00:00Z",
                                    "transactions": [{"kind": "refund", "status": "success", "amount": "40.00"}]}, shop)
    r.refresh_from_db()
    assert (r.status, r.reward_amount) == (Referral.Status.PENDING, Decimal("6.00"))
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep(now=timezone.now() + 30 * DAY)
    assert CreditEntry.objects.get().amount == Decimal("6.00")
    assert credit.balances[maya.customer.gid] == Decimal("6.00")


def test_partial_refund_leaves_a_fixed_reward(shop, maya, credit, post_webhook):
    ProgramSettings.objects.create(shop=shop, reward_kind="fixed", reward_value=Decimal("10"))
    r = referral(shop, maya, fulfilled_days_ago=3)
    post_webhook("refunds/create", {"id": 79, "order_id": r.order.shopify_id, "created_at": "2026-11-22T10:00:00Z",
                                    "transactions": [{"kind": "refund", "status": "success", "amount": "40.00"}]}, shop)
    r.refresh_from_db()
    assert (r.status, r.reward_amount) == (Referral.Status.PENDING, Decimal("10.00"))


def test_monthly_cap_holds_back_the_reward_that_would_exceed_it_until_next_month(
        shop, maya, credit, django_capture_on_commit_callbacks):
    ProgramSettings.objects.create(shop=shop, monthly_cap=Decimal("15.00"))
    first = referral(shop, maya, fulfilled_days_ago=32)
    second = referral(shop, maya, fulfilled_days_ago=31)
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Referral.Status.ISSUED
    assert second.status == Referral.Status.PENDING and "Monthly cap" in second.decision_note
    assert second.hold_until == first.approved_at + CAP_WINDOW_DAYS * DAY
    assert maya.balance() == Decimal("10.00")

    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep(now=second.hold_until + timedelta(seconds=1))
    second.refresh_from_db()
    assert second.status == Referral.Status.ISSUED
    assert maya.balance() == Decimal("20.00")


def test_monthly_cap_lowers_a_single_reward_larger_than_the_cap(shop, maya, credit, django_capture_on_commit_callbacks):
    ProgramSettings.objects.create(shop=shop, monthly_cap=Decimal("15.00"))
    r = referral(shop, maya, reward="25.00")
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    r.refresh_from_db()
    assert (r.status, r.reward_amount) == (Referral.Status.ISSUED, Decimal("15.00"))
    assert credit.balances[maya.customer.gid] == Decimal("15.00")


def test_the_cap_is_per_advocate(shop, maya, credit, django_capture_on_commit_callbacks):
    ProgramSettings.objects.create(shop=shop, monthly_cap=Decimal("10.00"))
    lea = Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Lea"), code="LEA-2345")
    a, b = referral(shop, maya), referral(shop, lea)
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    assert {x.status for x in Referral.objects.filter(pk__in=[a.pk, b.pk])} == {Referral.Status.ISSUED}


def test_flagged_referral_approved_by_the_merchant_enters_the_hold_and_is_paid(
        shop, maya, credit, django_capture_on_commit_callbacks):
    r = referral(shop, maya, status=Referral.Status.FLAGGED)
    rewards_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.FLAGGED  # the sweep never pays a flagged referral

    decided = referral_decide(shop=shop, referral=r, approve=True, actor="owner@example.com", note="Knows them")
    assert (decided.status, decided.decided_by, decided.decision_note) == ("pending", "owner@example.com", "Knows them")
    assert decided.decided_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED


def test_rejected_flagged_referral_is_never_paid_and_decides_once(shop, maya, credit, fake_shopify):
    r = referral(shop, maya, status=Referral.Status.FLAGGED)
    referral_decide(shop=shop, referral=r, approve=False, actor="owner@example.com")
    with pytest.raises(ValueError, match="already rejected"):
        referral_decide(shop=shop, referral=r, approve=True, actor="someone-else")
    rewards_sweep(now=timezone.now() + 60 * DAY)
    r.refresh_from_db()
    assert (r.status, r.decided_by) == (Referral.Status.REJECTED, "owner@example.com")
    assert not fake_shopify.calls_to("storeCreditAccountCredit")


def test_another_shop_cannot_decide_a_referral(shop, other_shop, maya):
    r = referral(shop, maya, status=Referral.Status.FLAGGED)
    with pytest.raises(Referral.DoesNotExist):
        referral_decide(shop=other_shop, referral=r, approve=True, actor="intruder")
    r.refresh_from_db()
    assert (r.status, r.decided_by) == (Referral.Status.FLAGGED, "")
