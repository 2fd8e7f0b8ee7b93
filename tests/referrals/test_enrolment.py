from __future__ import annotations

import re

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Advocate, ProgramSettings
from referrals.services import advocate_codes_due, advocate_enrol, code_generate
from tests.referrals.helpers import customer, discount_created, order_payload

pytestmark = pytest.mark.django_db


def test_code_reads_as_name_and_four_unambiguous_characters():
    code = code_generate("Maÿa")
    assert re.fullmatch(r"MAYA-[2-9A-HJ-NP-Z]{4}", code)
    assert code_generate("") .startswith("FRIEND-")
    assert len({code_generate("Maya") for _ in range(50)}) > 40


def test_paid_order_enrols_the_buyer_and_creates_their_shopify_code(shop, fake_shopify, segments, post_webhook):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = discount_created
    ProgramSettings.objects.create(shop=shop, friend_offer_value="15", friend_minimum_subtotal="50.00")

    post_webhook("orders/paid", order_payload(first_name="Maya"), shop)

    advocate = Advocate.objects.get(shop=shop)
    assert advocate.code.startswith("MAYA-")
    assert advocate.code_state == Advocate.CodeState.CREATED
    assert advocate.discount_gid == "gid://shopify/DiscountCodeNode/77"
    [call] = fake_shopify.calls_to("discountCodeBasicCreate")
    sent = call["variables"]["input"]
    assert sent["code"] == advocate.code
    assert sent["appliesOncePerCustomer"] is True
    # First order only is on by default: the code is limited to the shop's "no orders yet" segment.
    assert sent["context"] == {"customerSegments": {"add": list(segments.made.values())}}
    assert "customerSelection" not in sent
    assert sent["customerGets"]["value"] == {"percentage": 0.15}
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "50.00"}}


def test_unpaid_order_enrols_nobody(shop, fake_shopify, post_webhook):
    post_webhook("orders/create", order_payload(financial_status="pending"), shop)
    assert not Advocate.objects.exists()


def test_repeated_orders_keep_one_advocate_and_one_code(shop, fake_shopify, post_webhook):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = discount_created
    payload = order_payload(customer_id=424242)
    post_webhook("orders/paid", payload, shop)
    post_webhook("orders/paid", {**payload, "id": payload["id"] + 1}, shop)
    assert Advocate.objects.count() == 1
    assert len(fake_shopify.calls_to("discountCodeBasicCreate")) == 1


def test_failed_code_creation_is_retried_and_adopts_a_code_shopify_already_made(shop, fake_shopify, django_capture_on_commit_callbacks):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": None, "userErrors": [{"field": None, "message": "Internal error", "code": "INTERNAL_ERROR"}]}
    with django_capture_on_commit_callbacks(execute=True):
        advocate = advocate_enrol(shop=shop, customer=customer(shop))
    advocate.refresh_from_db()
    assert advocate.code_state == Advocate.CodeState.FAILED
    assert advocate.code_error

    # The answer was lost but Shopify made the code: the retry finds it instead of failing on TAKEN.
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: {
        "id": "gid://shopify/DiscountCodeNode/5", "codeDiscount": {"title": f"Referral from {v['code']}"}}
    with django_capture_on_commit_callbacks(execute=True):
        assert advocate_codes_due() == 0  # not due yet: backing off
    Advocate.objects.filter(pk=advocate.pk).update(code_next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert advocate_codes_due() == 1
    advocate.refresh_from_db()
    assert advocate.code_state == Advocate.CodeState.CREATED
    assert advocate.discount_gid == "gid://shopify/DiscountCodeNode/5"
    assert len(fake_shopify.calls_to("discountCodeBasicCreate")) == 1


def test_code_taken_in_shopify_is_adopted(shop, fake_shopify, django_capture_on_commit_callbacks):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=False)  # the first call is the create
    fake_shopify.script = ["user_error"]
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: {
        "id": "gid://shopify/DiscountCodeNode/9", "codeDiscount": {"title": f"Referral from {v['code']}"}}
    with django_capture_on_commit_callbacks(execute=True):
        advocate = advocate_enrol(shop=shop, customer=customer(shop))
    advocate.refresh_from_db()
    assert advocate.code_state == Advocate.CodeState.CREATED
    assert advocate.discount_gid == "gid://shopify/DiscountCodeNode/9"
