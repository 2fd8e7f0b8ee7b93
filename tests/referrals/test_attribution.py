from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.attribution import referral_attribute
from referrals.fraud import email_normalise
from referrals.models import Advocate, Click, ProgramSettings, Referral
from shopapp.ratelimit import ip_hash
from tests.referrals.helpers import customer, order, order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(shop):
    ProgramSettings.objects.create(shop=shop, weekly_referral_limit=3)
    return Advocate.objects.create(
        shop=shop, customer=customer(shop, first_name="Maya", email="maya.rossi@gmail.com", phone="+1 (555) 555-0100"),
        code="MAYA-7K2Q", code_state=Advocate.CodeState.CREATED,
    )


def rules(referral: Referral) -> list[str]:
    return [r["rule"] for r in referral.fraud_reasons]


def test_order_with_the_code_among_several_is_attributed_by_code(shop, maya, post_webhook):
    post_webhook("orders/create", order_payload(codes=["FREESHIP", "maya-7k2q"], first_name="Sam"), shop)
    referral = Referral.objects.get()
    assert (referral.advocate, referral.via, referral.status) == (maya, Referral.Via.CODE, Referral.Status.PENDING)
    assert referral.friend.first_name == "Sam"
    assert referral.fraud_reasons == []
    assert referral.reward_amount == ProgramSettings.objects.get(shop=shop).reward_value


def test_repeated_and_later_topics_keep_one_referral(shop, maya, post_webhook):
    payload = order_payload(codes=["MAYA-7K2Q"])
    post_webhook("orders/create", payload, shop)
    post_webhook("orders/create", payload, shop)
    post_webhook("orders/paid", payload, shop)
    assert Referral.objects.count() == 1


def test_link_ref_in_landing_site_attributes_when_no_code_was_used(shop, maya, post_webhook):
    post_webhook("orders/create", order_payload(landing_site="/products/tea?ref=MAYA-7K2Q&utm_source=x"), shop)
    assert Referral.objects.get().via == Referral.Via.LINK


def test_landing_on_the_discount_link_attributes(shop, maya, post_webhook):
    post_webhook("orders/create", order_payload(landing_site="/discount/MAYA-7K2Q?redirect=/"), shop)
    assert Referral.objects.get().via == Referral.Via.LINK


def test_note_attribute_attributes_last(shop, maya, post_webhook):
    post_webhook("orders/create", order_payload(note_attributes=[{"name": "gift", "value": "no"},
                                                                 {"name": "ref", "value": "maya-7k2q"}]), shop)
    assert Referral.objects.get().via == Referral.Via.NOTE


def test_code_wins_over_another_advocates_link(shop, maya, post_webhook):
    other = Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Ola"), code="OLA-2345")
    post_webhook("orders/create", order_payload(codes=["OLA-2345"], landing_site="/?ref=MAYA-7K2Q"), shop)
    assert Referral.objects.get().advocate == other


def test_orders_without_a_referral_code_or_with_a_paused_advocate_are_not_referrals(shop, maya, post_webhook):
    post_webhook("orders/create", order_payload(codes=["SUMMER10"]), shop)
    Advocate.objects.filter(pk=maya.pk).update(status=Advocate.Status.PAUSED)
    post_webhook("orders/create", order_payload(codes=["MAYA-7K2Q"]), shop)
    assert not Referral.objects.exists()


def test_another_shops_advocate_code_is_not_attributed(shop, other_shop, maya, post_webhook):
    post_webhook("orders/create", order_payload(codes=["MAYA-7K2Q"]), other_shop)
    assert not Referral.objects.exists()


def test_advocate_using_their_own_code_is_flagged_self_referral(shop, maya, post_webhook):
    payload = order_payload(codes=["MAYA-7K2Q"], customer_id=maya.customer.shopify_id, email=maya.customer.email)
    post_webhook("orders/create", payload, shop)
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.FLAGGED
    assert "self_referral" in rules(referral)
    assert "advocate placed this order" in referral.fraud_reasons[0]["reason"]


def test_gmail_dots_and_plus_tags_are_the_same_person(shop, maya, post_webhook):
    assert email_normalise("Maya.Rossi+deal@GoogleMail.com") == email_normalise("mayarossi@gmail.com")
    assert email_normalise("maya.rossi+x@example.com") == "maya.rossi@example.com"
    post_webhook("orders/create", order_payload(codes=["MAYA-7K2Q"], email="M.aya.Rossi+friend@gmail.com"), shop)
    referral = Referral.objects.get()
    assert rules(referral) == ["self_referral"]
    assert "same email" in referral.fraud_reasons[0]["reason"]


def test_same_phone_is_self_referral(shop, maya):
    buyer = customer(shop, first_name="Sam", phone="555.555.0100")
    referral = referral_attribute(order=order(shop, buyer, codes=["MAYA-7K2Q"]))
    assert rules(referral) == ["self_referral"] and "phone" in referral.fraud_reasons[0]["reason"]


def test_shipping_to_the_advocates_address_is_self_referral(shop, maya):
    order(shop, maya.customer, placed_at=timezone.now() - timedelta(days=40),
          shipping_address={"address1": "1 Main St.", "zip": "97201", "country_code": "US"})
    buyer = customer(shop, first_name="Sam")
    referral = referral_attribute(order=order(shop, buyer, codes=["MAYA-7K2Q"],
                                              shipping_address={"address1": "1 main st", "zip": "97201", "country_code": "US"}))
    assert rules(referral) == ["self_referral"] and "address" in referral.fraud_reasons[0]["reason"]


def test_friend_who_already_ordered_is_flagged(shop, maya):
    buyer = customer(shop, first_name="Sam")
    order(shop, buyer, placed_at=timezone.now() - timedelta(days=100))
    referral = referral_attribute(order=order(shop, buyer, codes=["MAYA-7K2Q"]))
    assert rules(referral) == ["existing_customer"]
    assert referral.status == Referral.Status.FLAGGED


def test_same_ip_and_browser_as_the_advocates_own_clicks_is_flagged(shop, maya):
    Click.objects.create(shop=shop, advocate=maya, ip_hash=ip_hash("203.0.113.50"), user_agent="UA-1", own=True)
    buyer = customer(shop, first_name="Sam")
    referral = referral_attribute(order=order(shop, buyer, codes=["MAYA-7K2Q"], browser_ip="203.0.113.50", user_agent="UA-1"))
    assert rules(referral) == ["same_device"]
    # A friend on another browser from the same café is not flagged.
    other = referral_attribute(order=order(shop, customer(shop, first_name="Kim"), codes=["MAYA-7K2Q"],
                                           browser_ip="203.0.113.50", user_agent="UA-2"))
    assert other.fraud_reasons == []


def test_more_than_the_weekly_limit_is_flagged(shop, maya):
    results = [referral_attribute(order=order(shop, customer(shop, first_name=f"F{i}"), codes=["MAYA-7K2Q"],
                                              placed_at=timezone.now() - timedelta(hours=10 - i)))
               for i in range(4)]
    assert [r.status for r in results] == ["pending"] * 3 + ["flagged"]
    assert rules(results[3]) == ["weekly_limit"]
    assert "More than 3 referrals" in results[3].fraud_reasons[0]["reason"]


def test_code_spreading_from_coupon_sites_is_flagged(shop, maya):
    Click.objects.create(shop=shop, advocate=maya, ip_hash="x", referrer_host="www.retailmenot.com")
    referral = referral_attribute(order=order(shop, customer(shop, first_name="Sam"), codes=["MAYA-7K2Q"]))
    assert rules(referral) == ["coupon_site"]
    assert "retailmenot" in referral.fraud_reasons[0]["reason"]


def test_friend_arriving_from_a_coupon_site_is_flagged(shop, maya):
    referral = referral_attribute(order=order(shop, customer(shop, first_name="Sam"), codes=["MAYA-7K2Q"],
                                              referring_site="https://slickdeals.net/f/123"))
    assert rules(referral) == ["coupon_site"]


def test_several_rules_all_show(shop, maya):
    order(shop, maya.customer, placed_at=timezone.now() - timedelta(days=3))
    referral = referral_attribute(order=order(shop, maya.customer, codes=["MAYA-7K2Q"]))
    assert set(rules(referral)) >= {"self_referral", "existing_customer"}
