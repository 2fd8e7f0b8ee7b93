"""The referral program's Shopify Flow triggers against devstore: a friend's order attributed to an
advocate, and the advocate's reward once Shopify confirmed it, each reach Flow once."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from referrals.models import ProgramSettings, Referral
from referrals.rewards import rewards_sweep
from shopapp.models import FlowTrigger
from tests.money.conftest import DEMO, connected_shop, devstore, maya, shopify_balance  # noqa: F401  (fixtures)
from tests.referrals.helpers import order_payload
from tests.referrals.test_rewards import referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore)


def _runs(devstore, handle):  # noqa: F811
    return [r["payload"] for r in devstore.flow_runs(DEMO) if r["handle"] == handle]


def test_a_friends_order_with_the_code_reaches_flow_once_as_referral_attributed(shop, maya, devstore,  # noqa: F811
                                                                               post_webhook):
    ProgramSettings.for_shop(shop)
    payload = order_payload(codes=["MAYA-7K2Q"], customer_id=9007199254741999, first_name="Sam")
    post_webhook("orders/create", payload, shop)
    post_webhook("orders/create", payload, shop)  # Shopify delivers it again
    post_webhook("orders/paid", payload, shop)
    referral_row = Referral.objects.get()
    [attributed] = _runs(devstore, "advocate-referral-attributed")
    assert attributed == {"customer_id": 9007199254741999, "order_id": payload["id"],
                          "Advocate customer id": maya.customer.shopify_id,
                          "Reward amount": float(referral_row.reward_amount), "Currency": "USD"}


def test_an_issued_reward_reaches_flow_once_with_the_advocate_and_the_friends_order(shop, maya, devstore,  # noqa: F811
                                                                                   django_capture_on_commit_callbacks):
    r = referral(shop, maya, reward="10.00")
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep()
        rewards_sweep()  # the sweep again, as the next round would
    r.refresh_from_db()
    assert r.status == Referral.Status.ISSUED and shopify_balance(devstore, maya.customer) == Decimal("10.00")
    assert _runs(devstore, "advocate-reward-issued") == [{
        "customer_id": maya.customer.shopify_id, "order_id": r.order.shopify_id, "Reward amount": 10.0,
        "Currency": "USD", "Paid as": "store credit"}]


def test_a_reward_reaches_flow_only_once_shopify_confirmed_the_credit(shop, maya, devstore,  # noqa: F811
                                                                      django_capture_on_commit_callbacks):
    r = referral(shop, maya)
    devstore.fault(DEMO, "storeCreditAccountCredit", "fail_after")  # applied, but the answer is lost
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        rewards_sweep(now=start)
    assert Referral.objects.get(pk=r.pk).status == Referral.Status.APPROVED
    assert not FlowTrigger.objects.filter(handle="advocate-reward-issued").exists()
    with django_capture_on_commit_callbacks(execute=True):  # the sweep settles it from Shopify's transactions
        for minutes in (3, 6):
            rewards_sweep(now=start + timedelta(minutes=minutes))
    assert Referral.objects.get(pk=r.pk).status == Referral.Status.ISSUED
    assert len(_runs(devstore, "advocate-reward-issued")) == 1
