""""First order only" is real: in Shopify (the code's context is a "no orders yet" segment)
and at attribution (an existing customer's order is held only when the setting is on)."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from referrals.attribution import referral_attribute
from referrals.models import Advocate, ProgramSettings, Referral
from referrals.segments import SEGMENT_NAME, SEGMENT_QUERY
from referrals.services import advocate_code_create
from shopapp import shopify
from shopapp.models import Order
from tests.referrals.helpers import customer, discount_created, order

pytestmark = pytest.mark.django_db

SETTINGS = {
    "enabled": "on", "friend_offer_kind": "percent", "friend_offer_value": "10", "friend_minimum_subtotal": "0",
    "friend_first_order_only": "on", "reward_kind": "fixed", "reward_value": "10", "reward_cap": "",
    "hold_days": "30", "monthly_cap": "", "weekly_referral_limit": "5", "landing_text": "",
}


@pytest.fixture
def granted(shop, fake_shopify):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = discount_created
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: None
    return fake_shopify


@pytest.fixture
def no_library_sleeps(monkeypatch):
    """The client library backs off with real sleeps before resending a 5xx."""
    monkeypatch.setattr("shopify_app.graphql.admin_graphql.time.sleep", lambda s: None)


def _pending(shop, name="Maya") -> Advocate:
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name=name), code=f"{name.upper()}-7K2Q")


def _sent_context(fake, n=-1) -> dict:
    return fake.calls_to("discountCodeBasicCreate")[n]["variables"]["input"]["context"]


def _lose_answers(fake, *, field: str, status: int, times: int = 1) -> None:
    """Shopify applies the call, then the answer is lost (a 5xx from the edge)."""
    lost = []

    def handle(request: httpx.Request) -> httpx.Response:
        response = fake.handle(request)
        if f"{field}(".encode() in request.content and len(lost) < times:
            lost.append(request)
            return httpx.Response(status, json={"errors": "Bad gateway"})
        return response

    shopify.set_http_client(httpx.Client(transport=httpx.MockTransport(handle)))


def test_with_first_order_only_the_code_is_limited_to_a_no_orders_segment(shop, granted, segments):
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=True)
    advocate_code_create(advocate=_pending(shop))
    [create] = granted.calls_to("segmentCreate")
    assert create["variables"] == {"name": SEGMENT_NAME, "query": SEGMENT_QUERY}
    gid = segments.made[SEGMENT_NAME]
    assert _sent_context(granted) == {"customerSegments": {"add": [gid]}}
    assert ProgramSettings.objects.get(shop=shop).friend_segment_gid == gid


def test_without_first_order_only_the_code_is_for_all_customers_and_no_segment_is_made(shop, granted, segments):
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=False)
    advocate = advocate_code_create(advocate=_pending(shop))
    assert advocate.code_state == Advocate.CodeState.CREATED
    assert _sent_context(granted) == {"all": "ALL"}
    assert granted.calls_to("segments") == [] and granted.calls_to("segmentCreate") == []


def test_the_segment_is_made_once_per_shop_and_reused_by_every_code(shop, granted, segments):
    ProgramSettings.objects.create(shop=shop)
    for name in ("Maya", "Leo", "Kim"):
        advocate_code_create(advocate=_pending(shop, name))
    assert segments.creates == 1 and len(granted.calls_to("segments")) == 1
    gid = segments.made[SEGMENT_NAME]
    assert [_sent_context(granted, i) for i in range(3)] == [{"customerSegments": {"add": [gid]}}] * 3


def test_a_segment_that_already_exists_in_shopify_is_adopted_not_made_again(shop, granted, segments):
    segments.made[SEGMENT_NAME] = "gid://shopify/Segment/41"  # made before a reinstall, or by a lost answer
    ProgramSettings.objects.create(shop=shop)
    advocate_code_create(advocate=_pending(shop))
    assert segments.creates == 0
    assert _sent_context(granted) == {"customerSegments": {"add": ["gid://shopify/Segment/41"]}}


def test_a_segment_create_whose_answer_was_lost_is_found_on_retry_not_made_twice(shop, granted, segments):
    ProgramSettings.objects.create(shop=shop)
    advocate = _pending(shop)
    _lose_answers(granted, field="segmentCreate", status=500)  # not resent by the library
    advocate = advocate_code_create(advocate=advocate)
    assert advocate.code_state == Advocate.CodeState.FAILED and "500" in advocate.code_error
    assert granted.calls_to("discountCodeBasicCreate") == []  # no code without its limit
    assert ProgramSettings.objects.get(shop=shop).friend_segment_gid == ""

    Advocate.objects.filter(pk=advocate.pk).update(code_next_attempt_at=timezone.now())  # the backoff is over
    advocate = advocate_code_create(advocate=advocate)
    assert advocate.code_state == Advocate.CodeState.CREATED
    assert segments.creates == 1 and list(segments.made) == [SEGMENT_NAME]
    assert _sent_context(granted) == {"customerSegments": {"add": [segments.made[SEGMENT_NAME]]}}


def test_a_segment_create_answered_502_after_shopify_made_it_is_not_resent_and_is_adopted_on_retry(
        shop, granted, segments, no_library_sleeps):
    ProgramSettings.objects.create(shop=shop)
    _lose_answers(granted, field="segmentCreate", status=502)  # the client library used to resend a 502 blindly
    advocate = advocate_code_create(advocate=_pending(shop))
    assert advocate.code_state == Advocate.CodeState.FAILED and segments.creates == 1
    Advocate.objects.filter(pk=advocate.pk).update(code_next_attempt_at=timezone.now())  # the backoff is over
    advocate = advocate_code_create(advocate=advocate)
    assert advocate.code_state == Advocate.CodeState.CREATED
    assert segments.creates == 1 and list(segments.made) == [SEGMENT_NAME]  # found by its name, not made twice
    assert ProgramSettings.objects.get(shop=shop).friend_segment_gid == segments.made[SEGMENT_NAME]


def test_a_segment_shopify_refuses_for_another_reason_fails_the_code_with_the_error(shop, granted):
    granted.responders["segments"] = lambda v: {"nodes": []}
    granted.responders["segmentCreate"] = lambda v: {
        "segment": None, "userErrors": [{"field": ["query"], "message": "Query is invalid"}]}
    ProgramSettings.objects.create(shop=shop)
    advocate = advocate_code_create(advocate=_pending(shop))
    assert advocate.code_state == Advocate.CodeState.FAILED and "Query is invalid" in advocate.code_error
    assert granted.calls_to("discountCodeBasicCreate") == []


def test_a_segment_deleted_in_shopify_is_looked_up_and_made_again_on_the_codes_retry(shop, granted, segments):
    ProgramSettings.objects.create(shop=shop, friend_segment_gid="gid://shopify/Segment/404")  # deleted by the merchant
    advocate = _pending(shop)
    Advocate.objects.filter(pk=advocate.pk).update(code_state=Advocate.CodeState.FAILED, code_attempts=1,
                                                   code_error="Segment does not exist")
    advocate = advocate_code_create(advocate=advocate)
    assert advocate.code_state == Advocate.CodeState.CREATED
    gid = segments.made[SEGMENT_NAME]
    assert _sent_context(granted) == {"customerSegments": {"add": [gid]}}
    assert ProgramSettings.objects.get(shop=shop).friend_segment_gid == gid


@pytest.mark.parametrize("turn_on", [True, False])
def test_switching_first_order_only_re_syncs_every_created_code(
        client, make_session_token, shop, granted, segments, django_capture_on_commit_callbacks, turn_on):
    granted.responders["discountCodeBasicUpdate"] = discount_created
    ProgramSettings.objects.create(shop=shop, friend_offer_value="10", friend_first_order_only=not turn_on)
    made = Advocate.objects.create(shop=shop, customer=customer(shop), code="MAYA-7K2Q",
                                   code_state=Advocate.CodeState.CREATED, discount_gid="gid://shopify/DiscountCodeNode/7")
    data = {**SETTINGS, "friend_first_order_only": "on"} if turn_on else \
        {k: v for k, v in SETTINGS.items() if k != "friend_first_order_only"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/app/referrals/settings/?id_token={make_session_token(shop.domain)}", data)
    assert "Updating the friend discount on 1 advocate code in Shopify." in response.content.decode()
    [update] = granted.calls_to("discountCodeBasicUpdate")
    assert update["variables"]["id"] == made.discount_gid
    expected = {"customerSegments": {"add": [segments.made[SEGMENT_NAME]]}} if turn_on else {"all": "ALL"}
    assert update["variables"]["input"]["context"] == expected


def test_the_settings_page_says_what_first_order_only_does(panel_get, shop):
    page = panel_get("/app/referrals/settings/", shop).content.decode()
    assert "the friend&#x27;s code works only for customers with no orders yet" in page
    assert "Shopify refuses the code at checkout to anyone who has ordered before" in page


# --- attribution -------------------------------------------------------------------


@pytest.fixture
def maya(shop):
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya", email="maya@example.com"),
                                   code="MAYA-7K2Q", code_state=Advocate.CodeState.CREATED)


def _returning_friend_order(shop, *, email_only=False):
    sam = customer(shop, first_name="Sam", email="sam@example.com")
    earlier = order(shop, None if email_only else sam, placed_at=timezone.now() - timedelta(days=60))
    if email_only:  # a guest checkout with the same address, typed differently
        Order.objects.filter(pk=earlier.pk).update(email="Sam@Example.com")
    return order(shop, sam, codes=["MAYA-7K2Q"])


@pytest.mark.parametrize("email_only", [False, True])
def test_with_first_order_only_a_returning_friend_is_held_with_the_reason(shop, maya, email_only):
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=True)
    referral = referral_attribute(order=_returning_friend_order(shop, email_only=email_only))
    assert referral.status == Referral.Status.FLAGGED
    assert referral.fraud_reasons == [{
        "rule": "existing_customer",
        "reason": "First order only: the friend had already ordered from the shop before this order."}]


def test_without_first_order_only_a_returning_friend_is_rewarded_as_usual(shop, maya):
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=False)
    referral = referral_attribute(order=_returning_friend_order(shop))
    assert referral.status == Referral.Status.PENDING and referral.fraud_reasons == []


def test_without_first_order_only_the_advocate_still_cannot_refer_themselves(shop, maya):
    ProgramSettings.objects.create(shop=shop, friend_first_order_only=False)
    order(shop, maya.customer, placed_at=timezone.now() - timedelta(days=30))
    referral = referral_attribute(order=order(shop, maya.customer, codes=["MAYA-7K2Q"]))
    assert referral.status == Referral.Status.FLAGGED
    assert [r["rule"] for r in referral.fraud_reasons] == ["self_referral"]
