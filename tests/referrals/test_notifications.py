"""The advocate is told when a friend orders and when their store credit is issued: once, and only if allowed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Advocate, CreditEntry, ProgramSettings, Referral
from referrals.notifications import advocate_news_sweep, credit_advocate_tell, referral_advocate_tell
from referrals.rewards import rewards_sweep
from shopapp.models import Customer
from tests.referrals.helpers import customer
from tests.referrals.test_rewards import StoreCredit, referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(shop):
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya"), code="MAYA-7K2Q",
                                   code_state=Advocate.CodeState.CREATED)


@pytest.fixture
def credit(shop, fake_shopify):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    return StoreCredit(fake_shopify)


def test_the_advocate_is_told_once_that_a_friend_ordered_without_naming_the_friend(shop, maya, mailoutbox):
    r = referral(shop, maya, fulfilled_days_ago=None)
    advocate_news_sweep()
    advocate_news_sweep()
    assert referral_advocate_tell(referral_id=r.pk) is False  # the job and the sweep: still one email
    [sent] = mailoutbox
    assert sent.to == [maya.customer.email] and "A friend ordered" in sent.subject
    assert "$10.00" in sent.body and "Sam" not in sent.body and "Sam" not in sent.alternatives[0][0]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_issued_store_credit_is_announced_once_with_its_amount(shop, maya, credit, mailoutbox,
                                                               django_capture_on_commit_callbacks):
    ProgramSettings.for_shop(shop)
    r = referral(shop, maya)
    Referral.objects.filter(pk=r.pk).update(advocate_told_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
    advocate_news_sweep()
    advocate_news_sweep()
    [entry] = CreditEntry.objects.filter(advocate=maya)
    assert credit_advocate_tell(entry_id=entry.pk) is False
    [sent] = mailoutbox
    assert "added $10.00 to your store credit" in sent.body and entry.notified_at is not None


@pytest.mark.parametrize("opt_out", ["advocate_link", "shopify", "open_case"])
def test_no_news_for_an_advocate_who_opted_out_or_has_an_open_case_and_none_later(shop, maya, mailoutbox, opt_out):
    from reviews.cases.models import Case
    from reviews.models import Review

    who = maya.customer
    if opt_out == "advocate_link":
        Customer.objects.filter(pk=who.pk).update(unsubscribed_at=timezone.now())
    elif opt_out == "shopify":
        Customer.objects.filter(pk=who.pk).update(marketing=Customer.Marketing.UNSUBSCRIBED)
    else:
        review = Review.objects.create(shop=shop, product_id=1, product_title="Trail Mug", rating=1, customer=who)
        Case.objects.create(shop=shop, review=review, customer=who, reason="rating", rating_at_open=1)
    r = referral(shop, maya, fulfilled_days_ago=None)
    advocate_news_sweep()
    assert mailoutbox == []
    Customer.objects.filter(pk=who.pk).update(unsubscribed_at=None, marketing=Customer.Marketing.SUBSCRIBED)
    if opt_out == "open_case":
        Case.objects.all().delete()
    advocate_news_sweep()
    assert mailoutbox == []  # old news is not sent when the block lifts
    assert Referral.objects.get(pk=r.pk).advocate_told_at is not None


def test_a_flagged_referral_waits_for_the_merchant_and_a_rejected_one_is_never_news(shop, maya, mailoutbox):
    r = referral(shop, maya, fulfilled_days_ago=None, status=Referral.Status.FLAGGED)
    advocate_news_sweep()
    assert mailoutbox == [] and Referral.objects.get(pk=r.pk).advocate_told_at is None
    Referral.objects.filter(pk=r.pk).update(status=Referral.Status.REJECTED)
    advocate_news_sweep()
    assert mailoutbox == []
    Referral.objects.filter(pk=r.pk).update(status=Referral.Status.PENDING)
    advocate_news_sweep()
    assert len(mailoutbox) == 1


def test_a_failed_send_is_told_at_the_next_sweep(shop, maya, mailoutbox, monkeypatch):
    from referrals import notifications

    r = referral(shop, maya, fulfilled_days_ago=None)
    monkeypatch.setattr(notifications, "email_send", lambda **kw: (_ for _ in ()).throw(OSError("smtp down")))
    advocate_news_sweep()
    assert Referral.objects.get(pk=r.pk).advocate_told_at is None
    monkeypatch.undo()
    advocate_news_sweep()
    assert len(mailoutbox) == 1


def test_old_referrals_and_uninstalled_shops_get_no_news(shop, maya, mailoutbox):
    old = referral(shop, maya, fulfilled_days_ago=None)
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    advocate_news_sweep()
    assert mailoutbox == []
    referral(shop, maya, fulfilled_days_ago=None)
    shop.uninstalled_at = timezone.now()
    shop.save(update_fields=["uninstalled_at"])
    advocate_news_sweep()
    assert mailoutbox == []
