"""The referral part of the checkout and customer-account extensions: a buyer sees their own
link, never anyone else's, and no ask while something pauses them."""
from __future__ import annotations

import pytest
from django.conf import settings

from referrals.models import Advocate, ProgramSettings, Referral
from shopapp.models import Customer
from shopapp.registry import register_marketing_block
from tests.buyer import MAYA, ask, buyer_token, maya, with_code
from tests.referrals.helpers import customer, order

pytestmark = pytest.mark.django_db


def test_a_guest_on_the_thank_you_page_is_told_the_link_comes_by_email(client, shop):
    with_code(shop)
    data = ask(client, buyer_token(shop.domain, sub=None), order="gid://shopify/OrderIdentity/1").json()
    assert data["referral"] == {"state": "by_email", "friend_offer": "10% off their first order",
                                "reward": "$10.00 in store credit"}
    assert data["review"] is None and data["account"] is None


def test_a_logged_in_buyer_gets_their_own_link_with_share_targets(client, shop):
    with_code(shop)
    referral = ask(client, buyer_token(shop.domain)).json()["referral"]
    assert referral["state"] == "ready"
    assert referral["link"].endswith("/apps/advocate/referrals/r/MAYA-7K2Q")
    assert referral["share_url"].startswith(settings.APP_URL + "/")
    assert {t["label"] for t in referral["share_targets"]} >= {"WhatsApp", "Email"}
    assert all("MAYA-7K2Q" in t["url"] for t in referral["share_targets"])


def test_before_the_order_reaches_advocate_the_link_is_preparing(client, shop):
    """The thank-you page opens before the order's webhook: ask again in a few seconds."""
    data = ask(client, buyer_token(shop.domain)).json()
    assert data["referral"]["state"] == "preparing" and data["referral"]["retry_after"] > 0
    advocate = Advocate.objects.create(shop=shop, customer=maya(shop), code="MAYA-AAAA")  # code job not done
    assert ask(client, buyer_token(shop.domain)).json()["referral"]["state"] == "preparing"
    Advocate.objects.filter(pk=advocate.pk).update(code_state=Advocate.CodeState.CREATED)
    assert ask(client, buyer_token(shop.domain)).json()["referral"]["state"] == "ready"


@pytest.mark.parametrize("why", ["program off", "case open", "code paused", "customer redacted"])
def test_no_referral_ask_when_the_program_is_off_or_the_customer_is_paused(client, shop, why):
    advocate = with_code(shop)
    if why == "program off":
        ProgramSettings.objects.update_or_create(shop=shop, defaults={"enabled": False})
    elif why == "case open":
        register_marketing_block(lambda s, c: "a case is open" if c.shopify_id == MAYA else None)
    elif why == "code paused":
        Advocate.objects.filter(pk=advocate.pk).update(status=Advocate.Status.PAUSED)
    else:
        Customer.objects.filter(pk=advocate.customer_id).update(redacted_at=shop.installed_at)
    for surface in ("thank-you", "order-status", "account"):
        data = ask(client, buyer_token(shop.domain), surface=surface).json()
        assert data["referral"] is None and "MAYA-7K2Q" not in str(data), surface


def test_the_account_page_shows_friends_and_credit(client, shop):
    advocate = with_code(shop)
    friend = customer(shop, first_name="Sam")
    Referral.objects.create(shop=shop, advocate=advocate, friend=friend, order=order(shop, friend),
                            status=Referral.Status.PENDING, reward_amount="10.00", currency="USD",
                            via=Referral.Via.CODE)
    account = ask(client, buyer_token(shop.domain), surface="account").json()["account"]
    assert account["friends"] == [{"first_name": "Sam", "status": "Ordered: credit on the way"}]
    assert account["friend_count"] == 1
    assert account["credit_pending"] == "$10.00" and account["credit_earned"] == "$0.00"
    assert account["awaiting_review"] == []




def test_the_answer_speaks_the_language_shopify_chose_for_the_extension(client, shop):
    """The extension names its language (`locale`); the words Advocate writes into the answer follow it,
    and without it the buyer's own language (their orders' customer_locale) does."""
    with_code(shop)
    german = ask(client, buyer_token(shop.domain), locale="de")
    assert german["Content-Language"] == "de"
    referral = german.json()["referral"]
    assert referral["friend_offer"] != "10% off their first order" and "10" in referral["friend_offer"]
    assert ask(client, buyer_token(shop.domain), locale="xx-YY")["Content-Language"] == "en"
    order(shop, maya(shop), customer_locale="ko-KR")
    assert ask(client, buyer_token(shop.domain))["Content-Language"] == "ko"
