"""shop/redact erases everything about the shop, its credit ledger included (the one sanctioned deletion of ledger rows)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import RestrictedError

from referrals.models import Advocate, CreditEntry, Referral
from shopapp.models import CreditAttempt, Shop
from shopapp.services import shop_erase
from tests.referrals.helpers import customer
from tests.referrals.test_rewards import referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    from tests.conftest import _make_shop

    return _make_shop("owner-shop.myshopify.com")


@pytest.fixture
def other_shop(db):
    from tests.conftest import _make_shop

    return _make_shop("other-shop.myshopify.com")


def _paid_reward(shop, code):
    advocate = Advocate.objects.create(shop=shop, customer=customer(shop), code=code)
    r = referral(shop, advocate, status=Referral.Status.ISSUED)
    CreditEntry.objects.create(shop=shop, advocate=advocate, referral=r, key=f"reward:{r.pk}", amount=Decimal("10.00"),
                               currency="USD", status=CreditEntry.Status.CONFIRMED, shopify_ref="gid://t/1")
    CreditAttempt.objects.create(shop=shop, key=f"reward:{r.pk}", customer_gid=advocate.customer.gid,
                                 amount=Decimal("10.00"), currency="USD", transaction_id="gid://t/1")
    return r


def test_shop_redact_erases_a_shop_that_paid_rewards_ledger_included_and_no_other_shop(shop, other_shop):
    _paid_reward(shop, "MAYA-2345")
    theirs = _paid_reward(other_shop, "LIAM-2345")
    shop_erase(domain=shop.domain)
    assert not Shop.objects.filter(domain=shop.domain).exists()
    assert not CreditEntry.objects.filter(shop_id=shop.pk).exists()
    assert not CreditAttempt.objects.filter(shop_id=shop.pk).exists()
    assert not Referral.objects.filter(shop_id=shop.pk).exists()
    assert CreditEntry.objects.get().referral_id == theirs.pk  # the other shop keeps its ledger


def test_a_paid_referral_cannot_be_deleted_on_its_own(shop):
    r = _paid_reward(shop, "MAYA-2345")
    with pytest.raises(RestrictedError):
        r.delete()
