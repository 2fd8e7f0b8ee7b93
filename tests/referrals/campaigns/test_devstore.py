"""Past buyers' codes against devstore: each enrolled past buyer gets one Shopify discount code, also when
Shopify applied the call but its answer was lost (the retry finds the code instead of making a second)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.campaigns.models import PastBuyer
from referrals.campaigns.services import campaigns_sweep, past_buyers_switch
from referrals.models import Advocate, ProgramSettings
from referrals.services import advocate_codes_due
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (fixtures)
from tests.referrals.helpers import customer, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore)


def _past(shop, name):
    buyer = customer(shop, first_name=name)
    order(shop, buyer, placed_at=shop.installed_at - timedelta(days=90))
    return buyer


def test_each_past_buyer_gets_one_code_in_shopify_even_after_a_lost_answer(shop, devstore,  # noqa: F811
                                                                           django_capture_on_commit_callbacks):
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=False)
    buyers = [_past(shop, name) for name in ("Ann", "Ben", "Cy")]
    devstore.fault(DEMO, "discountCodeBasicCreate", "fail_after")  # the first code is made, its answer lost
    with django_capture_on_commit_callbacks(execute=True):
        past_buyers_switch(shop=shop, enrol=True)
    assert PastBuyer.objects.filter(customer__in=buyers).count() == 3
    assert Advocate.objects.filter(code_state=Advocate.CodeState.FAILED).count() == 1
    Advocate.objects.update(code_next_attempt_at=timezone.now() - timedelta(seconds=1))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            advocate_codes_due()
            campaigns_sweep()
    codes = sorted(a.code for a in Advocate.objects.all())
    assert all(a.code_state == Advocate.CodeState.CREATED for a in Advocate.objects.all())
    in_shopify = sorted(d["code"] for d in devstore.discount_codes(DEMO) if d["code"] in codes)
    assert in_shopify == codes  # one each, none twice
