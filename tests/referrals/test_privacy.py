"""customers/redact anonymises advocates and friends but keeps the ledger; data requests include referrals."""
from __future__ import annotations

from decimal import Decimal

import pytest

from referrals.models import Advocate, Click, CreditEntry, Referral
from shopapp.models import CustomerDataExport
from shopapp.registry import shop_data_export
from tests.conftest import load_fixture
from tests.referrals.helpers import customer, order

pytestmark = pytest.mark.django_db
MAYA_ID = 9007199254740993  # the customer the compliance fixtures name


@pytest.fixture
def program(shop, other_shop):
    maya = customer(shop, first_name="Maya", email="maya@example.com", shopify_id=MAYA_ID)
    advocate = Advocate.objects.create(shop=shop, customer=maya, code="MAYA-7K2Q", code_state=Advocate.CodeState.CREATED,
                                       discount_gid="gid://shopify/DiscountCodeNode/55")
    Click.objects.create(shop=shop, advocate=advocate, ip_hash="a" * 64, user_agent="Maya's phone", own=True,
                         landing_path="/r/MAYA-7K2Q")
    Click.objects.create(shop=shop, advocate=advocate, ip_hash="b" * 64, user_agent="Friend", landing_path="/r/MAYA-7K2Q")
    sam = customer(shop, first_name="Sam", email="sam@example.com")
    referral = Referral.objects.create(shop=shop, advocate=advocate, order=order(shop, sam, codes=["MAYA-7K2Q"]),
                                       friend=sam, via="code", status="issued", reward_amount=Decimal("10.00"),
                                       currency="USD")
    CreditEntry.objects.create(shop=shop, advocate=advocate, referral=referral, key=f"reward:{referral.pk}",
                               amount=Decimal("10.00"), currency="USD", status="confirmed", shopify_ref="gid://x/1")
    # The same person in another shop: untouched by this shop's request.
    other = Advocate.objects.create(shop=other_shop, code="MAYA-OTHR", code_state=Advocate.CodeState.CREATED,
                                    customer=customer(other_shop, first_name="Maya", email="maya@example.com",
                                                      shopify_id=MAYA_ID))
    return advocate, referral, other


def test_data_request_includes_the_advocates_referrals_and_credit(program, shop, post_webhook):
    advocate, referral, _ = program
    post_webhook("customers/data_request", load_fixture("webhooks/customers_data_request.json"), shop)
    data = CustomerDataExport.objects.get(shop=shop).data["data"]["referrals"]
    assert [a["code"] for a in data["advocates"]] == ["MAYA-7K2Q"]
    assert data["advocates"][0]["clicks"] == 2
    assert data["referrals_made"] == [{"order": referral.order.name, "status": "issued", "reward": "10.00",
                                       "currency": "USD", "created_at": referral.created_at.isoformat()}]
    assert data["credit"][0]["amount"] == "10.00" and data["credit"][0]["status"] == "confirmed"
    assert "MAYA-OTHR" not in str(data)


def test_data_request_for_a_referred_friend_names_the_referral(program, shop):
    from shopapp.registry import CustomerRef, customer_data_export

    data = customer_data_export(shop, CustomerRef(shopify_id="", email="sam@example.com", phone=""))["referrals"]
    assert data["advocates"] == [] and data["referred_by"][0]["advocate_code"] == "MAYA-7K2Q"


def test_redact_anonymises_the_advocate_and_keeps_ledger_amounts(program, shop, fake_shopify, post_webhook):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeDelete"] = lambda v: {"deletedCodeDiscountId": v["id"], "userErrors": []}
    advocate, referral, other = program
    post_webhook("customers/redact", load_fixture("webhooks/customers_redact.json"), shop)
    advocate.refresh_from_db()
    assert "MAYA" not in advocate.code and advocate.status == Advocate.Status.PAUSED
    assert advocate.customer.first_name == "" and advocate.customer.redacted_at
    assert not Click.objects.filter(advocate=advocate, own=True).exclude(ip_hash="", user_agent="").exists()
    assert not Click.objects.filter(advocate=advocate).exclude(landing_path="").exists()
    [call] = fake_shopify.calls_to("discountCodeDelete")
    assert call["variables"]["id"] == "gid://shopify/DiscountCodeNode/55"
    entry = CreditEntry.objects.get(shop=shop)
    assert (entry.amount, entry.status) == (Decimal("10.00"), "confirmed")
    assert Referral.objects.get(pk=referral.pk).reward_amount == Decimal("10.00")
    other.refresh_from_db()
    assert other.code == "MAYA-OTHR" and other.status == Advocate.Status.ACTIVE
    # The old link no longer leads anywhere.
    from referrals.services import advocate_for_code

    assert advocate_for_code("MAYA-7K2Q") is None


def test_redact_of_a_friend_unlinks_them_from_the_referral(program, shop):
    from shopapp.registry import CustomerRef, customer_data_redact

    _, referral, _ = program
    customer_data_redact(shop, CustomerRef(shopify_id="", email="sam@example.com", phone=""))
    referral.refresh_from_db()
    assert referral.friend is None and referral.reward_amount == Decimal("10.00")
    assert referral.advocate.code == "MAYA-7K2Q"


def test_shop_export_holds_the_program_for_that_shop_only(program, shop):
    data = shop_data_export(shop)["referrals"]
    assert [a["code"] for a in data["advocates"]] == ["MAYA-7K2Q"]
    assert len(data["clicks"]) == 2 and "ip_hash" not in data["clicks"][0]
    assert data["credit_ledger"][0]["amount"] == "10.00"
    assert len(data["referrals"]) == 1
