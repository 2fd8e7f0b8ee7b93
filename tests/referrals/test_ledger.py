"""The credit ledger: one entry per business event, intent before Shopify, and no double payment."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from referrals import rewards
from shopapp import discounts
from referrals.models import CreditEntry, ProgramSettings, Referral
from referrals.rewards import reward_code, reward_issue, rewards_sweep
from referrals.services import advocate_balance
from tests.referrals.test_rewards import credit, maya, referral  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_crash_between_shopify_credit_and_our_write_is_settled_from_shopify_transactions(
        shop, maya, credit, fake_shopify, monkeypatch, django_capture_on_commit_callbacks):
    r = referral(shop, maya)

    def crash(attempt, transaction_id):
        raise SystemExit("worker killed after Shopify answered")

    monkeypatch.setattr(discounts, "_attempt_record", crash)
    with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    entry = CreditEntry.objects.get()
    assert entry.status == CreditEntry.Status.INTENT  # written before Shopify was called
    assert credit.balances[maya.customer.gid] == Decimal("10.00")  # Shopify did pay
    monkeypatch.undo()

    # Within the claim's lease nobody touches it; after it, the retry reads Shopify's transactions.
    rewards_sweep(now=timezone.now() + timedelta(seconds=30))
    assert CreditEntry.objects.get().status == CreditEntry.Status.INTENT
    rewards_sweep(now=timezone.now() + timedelta(minutes=3))
    entry.refresh_from_db()
    r.refresh_from_db()
    assert entry.status == CreditEntry.Status.CONFIRMED and entry.attempts == 2
    assert entry.shopify_ref == credit.transactions[maya.customer.gid][0]["id"]
    assert r.status == Referral.Status.ISSUED
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1
    assert credit.balances[maya.customer.gid] == Decimal("10.00")
    assert advocate_balance(maya) == Decimal("10.00")


def test_crash_before_the_credit_call_pays_on_retry(shop, maya, credit, fake_shopify, monkeypatch):
    r = referral(shop, maya)
    monkeypatch.setattr(discounts.AdminClient, "mutate", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        rewards_sweep()
    monkeypatch.undo()
    assert not fake_shopify.calls_to("storeCreditAccountCredit")
    rewards_sweep(now=timezone.now() + timedelta(minutes=3))
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1
    assert credit.balances[maya.customer.gid] == Decimal("10.00")


def test_a_credit_the_merchant_gave_before_the_send_is_not_taken_for_ours(shop, maya, credit, fake_shopify,
                                                                         monkeypatch):
    credit.add(maya.customer.gid, Decimal("10.00"))  # the same amount, given by hand earlier
    r = referral(shop, maya)
    monkeypatch.setattr(discounts.AdminClient, "mutate", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        rewards_sweep()
    monkeypatch.undo()
    rewards_sweep(now=timezone.now() + timedelta(minutes=3))
    assert Referral.objects.get(pk=r.pk).status == Referral.Status.ISSUED
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1  # it was listed before: not ours
    assert credit.balances[maya.customer.gid] == Decimal("20.00")


def test_shopify_unreachable_keeps_the_intent_for_the_sweep(shop, maya, credit, fake_shopify):
    r = referral(shop, maya)
    fake_shopify.script = ["503"] * 12
    rewards_sweep()
    assert not fake_shopify.calls_to("storeCreditAccountCredit")  # the listing before the send failed
    assert CreditEntry.objects.get().status == CreditEntry.Status.INTENT
    fake_shopify.script = []
    rewards_sweep(now=timezone.now() + timedelta(minutes=3))
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED
    assert credit.balances[maya.customer.gid] == Decimal("10.00")


def test_store_credit_unavailable_emails_an_equal_discount_code_instead(
        shop, maya, credit, fake_shopify, mailoutbox, django_capture_on_commit_callbacks):
    fake_shopify.responders["storeCreditAccountCredit"] = lambda v: {"storeCreditAccountTransaction": None, "userErrors": [
        {"field": ["creditInput", "creditAmount"], "message": "The currency provided is not currently supported.",
         "code": "UNSUPPORTED_CURRENCY"}]}
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/901"}, "userErrors": []}
    r = referral(shop, maya)
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED
    cancelled, code_entry = CreditEntry.objects.order_by("pk")
    assert (cancelled.status, cancelled.method) == ("cancelled", "store_credit")
    assert "unavailable" in cancelled.note
    assert (code_entry.key, code_entry.status, code_entry.method, code_entry.amount) == (
        f"reward:{r.pk}:code", "confirmed", "discount_code", Decimal("10.00"))
    code = reward_code(f"reward:{r.pk}")
    assert code_entry.shopify_ref == code and code.startswith("THANKS-")
    [call] = fake_shopify.calls_to("discountCodeBasicCreate")
    sent = call["variables"]["input"]
    assert sent["code"] == code and sent["usageLimit"] == 1
    assert sent["context"] == {"customers": {"add": [maya.customer.gid]}}
    assert sent["customerGets"]["value"]["discountAmount"]["amount"] == "10.00"
    [mail] = mailoutbox
    assert mail.to == [maya.customer.email] and code in mail.body and "$10.00" in mail.subject
    assert code in mail.alternatives[0][0]
    assert advocate_balance(maya) == Decimal("10.00")

    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep(now=timezone.now() + timedelta(minutes=5))
    assert len(mailoutbox) == 1 and len(fake_shopify.calls_to("discountCodeBasicCreate")) == 1


def test_reward_code_lost_answer_is_found_on_retry(shop, maya, credit, fake_shopify, mailoutbox):
    fake_shopify.responders["storeCreditAccountCredit"] = lambda v: {"storeCreditAccountTransaction": None, "userErrors": [
        {"field": ["creditInput"], "message": "Store credit is not enabled.", "code": "STORE_CREDIT_NOT_ENABLED"}]}
    r = referral(shop, maya)
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: (_ for _ in ()).throw(RuntimeError("answer lost"))
    with pytest.raises(Exception):
        rewards_sweep()
    del fake_shopify.responders["discountCodeBasicCreate"]
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: {
        "id": "gid://shopify/DiscountCodeNode/902", "codeDiscount": {"title": f"Referral reward {v['code']}"}}
    rewards_sweep(now=timezone.now() + timedelta(minutes=3))
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED
    assert CreditEntry.objects.get(key=f"reward:{r.pk}:code").status == CreditEntry.Status.CONFIRMED
    assert len(mailoutbox) == 1


def test_one_ledger_entry_per_business_event_in_a_shop(shop, other_shop, maya):
    CreditEntry.objects.create(shop=shop, advocate=maya, key="reward:1", amount=Decimal("10"), currency="USD")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(shop=shop, advocate=maya, key="reward:1", amount=Decimal("10"), currency="USD")
    # Keys are per shop: another shop's event with the same key is its own.
    CreditEntry.objects.create(shop=other_shop, advocate=maya, key="reward:1", amount=Decimal("10"), currency="USD")


def test_issuing_twice_concurrently_writes_one_entry_and_pays_once(shop, maya, credit, fake_shopify,
                                                                  django_capture_on_commit_callbacks):
    r = referral(shop, maya)
    rewards.referral_approve(referral_id=r.pk)
    reward_issue(referral_id=r.pk)
    reward_issue(referral_id=r.pk)
    assert CreditEntry.objects.count() == 1
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1


def test_balance_counts_only_confirmed_entries_and_ledger_is_shop_scoped(shop, other_shop, maya):
    for key, status, amount in [("a", "confirmed", "10"), ("b", "intent", "5"), ("c", "cancelled", "7"),
                                ("d", "confirmed", "2.50"), ("e", "uncertain", "3")]:
        CreditEntry.objects.create(shop=shop, advocate=maya, key=key, amount=Decimal(amount), currency="USD", status=status)
    assert advocate_balance(maya) == Decimal("12.50")
    assert CreditEntry.objects.for_shop(other_shop).count() == 0


def test_another_shops_uninstall_stops_nothing_here_and_its_referrals_are_not_paid(
        shop, other_shop, maya, credit, fake_shopify, django_capture_on_commit_callbacks):
    ProgramSettings.for_shop(shop)
    other_shop.uninstalled_at = timezone.now()
    other_shop.save()
    from referrals.models import Advocate
    from tests.referrals.helpers import customer

    gone = Advocate.objects.create(shop=other_shop, customer=customer(other_shop), code="GONE-2345")
    theirs, ours = referral(other_shop, gone), referral(shop, maya)
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    assert Referral.objects.get(pk=ours.pk).status == Referral.Status.ISSUED
    assert Referral.objects.get(pk=theirs.pk).status == Referral.Status.PENDING
    assert [c["shop"] for c in fake_shopify.calls_to("storeCreditAccountCredit")] == [shop.domain]
