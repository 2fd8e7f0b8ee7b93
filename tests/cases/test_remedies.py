from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reviews.cases.models import Case, Remedy
from reviews.cases.remedies import remedies_due, remedy_apply, remedy_offer
from reviews.cases.services import CaseError

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(make_review, shop, fake_shopify):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    return Case.objects.get(review=make_review(1))


def test_discount_code_is_created_once_for_that_customer_alone(case, fake_shopify, run_jobs):
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/31"}, "userErrors": []}
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("15"), note="", actor="staff 42")
    remedy.refresh_from_db()
    assert (remedy.status, remedy.shopify_id, remedy.amount) == ("done", "gid://shopify/DiscountCodeNode/31", Decimal("15.00"))
    [call] = fake_shopify.calls_to("discountCodeBasicCreate")
    sent = call["variables"]["input"]
    assert sent["code"] == remedy.code and remedy.code.startswith("SORRY-")
    assert sent["context"] == {"customers": {"add": ["gid://shopify/Customer/9007199254740993"]}}
    assert sent["usageLimit"] == 1 and sent["customerGets"]["value"]["discountAmount"]["amount"] == "15.00"
    assert remedy_apply(remedy_id=remedy.pk) is None  # a rerun claims nothing
    assert len(fake_shopify.calls_to("discountCodeBasicCreate")) == 1


def test_a_retry_after_a_lost_answer_adopts_the_code_instead_of_creating_another(case, fake_shopify, run_jobs):
    fake_shopify.script = ["503", "503", "503", "503"]  # the library's own retries, then a ShopifyError
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("10"), note="", actor="staff 42")
    remedy.refresh_from_db()
    assert remedy.status == "failed" and remedy.next_attempt_at is not None
    created = len(fake_shopify.calls_to("discountCodeBasicCreate"))
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: {"id": "gid://shopify/DiscountCodeNode/8"}
    assert remedies_due(now=timezone.now() + timedelta(hours=1)) == 1
    remedy.refresh_from_db()
    assert (remedy.status, remedy.shopify_id) == ("done", "gid://shopify/DiscountCodeNode/8")
    assert len(fake_shopify.calls_to("discountCodeBasicCreate")) == created  # looked up, not created again


def test_store_credit_is_never_given_twice_when_a_retry_finds_it_already_there(case, fake_shopify, run_jobs):
    balance = {"amount": "5.00"}
    fake_shopify.responders["customer"] = lambda v: {"storeCreditAccounts": {"nodes": [
        {"id": "gid://shopify/StoreCreditAccount/1", "balance": {"amount": balance["amount"], "currencyCode": "USD"}}]}}

    def credit(variables):
        balance["amount"] = "25.00"  # Shopify credited, but the answer is lost on the way back
        return None

    fake_shopify.responders["storeCreditAccountCredit"] = credit
    with run_jobs():
        remedy = remedy_offer(case=case, kind="store_credit", amount=Decimal("20"), note="", actor="staff 42")
    Remedy.objects.filter(pk=remedy.pk).update(status="sending", next_attempt_at=timezone.now() - timedelta(seconds=1),
                                               shopify_id="")
    remedy_apply(remedy_id=remedy.pk)
    remedy.refresh_from_db()
    assert remedy.status == "done" and remedy.balance_before == Decimal("5.00")
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1


def test_refusal_from_shopify_is_shown_and_not_retried_by_itself(case, fake_shopify, run_jobs):
    fake_shopify.responders["customer"] = lambda v: {"storeCreditAccounts": {"nodes": []}}
    fake_shopify.responders["storeCreditAccountCredit"] = lambda v: {"storeCreditAccountTransaction": None, "userErrors": [
        {"field": ["id"], "message": "Store credit is not enabled", "code": "STORE_CREDIT_NOT_ENABLED"}]}
    with run_jobs():
        remedy = remedy_offer(case=case, kind="store_credit", amount=Decimal("20"), note="", actor="staff 42")
    remedy.refresh_from_db()
    assert remedy.status == "failed" and "not enabled" in remedy.error and remedy.next_attempt_at is None
    assert remedies_due(now=timezone.now() + timedelta(days=1)) == 0


def test_a_refund_note_is_recorded_with_its_amount_and_needs_no_shopify_call(case, fake_shopify):
    remedy = remedy_offer(case=case, kind="refund", amount=Decimal("30"), note="Refunded in Shopify", actor="staff 42")
    assert remedy.status == "done" and remedy.amount == Decimal("30.00")
    assert fake_shopify.graphql_calls == []


def test_guest_customers_cannot_get_codes_or_credit(make_review, shop):
    case = Case.objects.get(review=make_review(1, guest=True, email="guest@example.com"))
    with pytest.raises(CaseError, match="guest checkout"):
        remedy_offer(case=case, kind="discount", amount=Decimal("10"), note="", actor="staff 42")
    with pytest.raises(CaseError, match="greater than zero"):
        remedy_offer(case=case, kind="store_credit", amount=Decimal("0"), note="", actor="staff 42")


def test_merchant_tries_a_refused_remedy_again_from_the_case_page(case, fake_shopify, client, make_session_token, shop,
                                                                  django_capture_on_commit_callbacks):
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount"], "message": "Discounts are paused", "code": "INVALID"}]}
    with django_capture_on_commit_callbacks(execute=True):
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("10"), note="", actor="staff 42")
    remedy.refresh_from_db()
    assert remedy.status == "failed"
    page = client.get(f"/app/cases/{case.pk}/?id_token={make_session_token(shop.domain)}").content.decode()
    assert "Discounts are paused" in page and "Try again" in page
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/40"}, "userErrors": []}
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/app/cases/{case.pk}/?id_token={make_session_token(shop.domain)}",
                               {"action": "retry", "remedy": str(remedy.pk)})
    assert "Trying again." in response.content.decode()
    remedy.refresh_from_db()
    assert (remedy.status, remedy.shopify_id) == ("done", "gid://shopify/DiscountCodeNode/40")


def test_a_remedy_waits_for_a_dead_token_without_spending_its_attempts(case, fake_shopify, run_jobs, panel_get, shop):
    from reviews.cases.remedies import MAX_ATTEMPTS
    from shopapp.models import Shop

    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/44"}, "userErrors": []}
    Shop.objects.filter(pk=shop.pk).update(access_token="", refresh_token="")  # invalid_grant marked it dead
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("10"), note="", actor="staff 42")
    later = timezone.now()
    for hour in range(1, MAX_ATTEMPTS + 2):
        later += timedelta(hours=hour)
        remedies_due(now=later)
    remedy.refresh_from_db()
    assert (remedy.status, remedy.attempts) == ("sending", 0)
    assert fake_shopify.calls_to("discountCodeBasicCreate") == []

    panel_get("/", shop)  # the merchant opens Advocate: a new token
    assert remedies_due(now=later + timedelta(hours=2)) == 1
    remedy.refresh_from_db()
    assert (remedy.status, remedy.shopify_id) == ("done", "gid://shopify/DiscountCodeNode/44")
