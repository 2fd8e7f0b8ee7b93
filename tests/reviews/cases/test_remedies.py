from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from reviews.cases.models import Case, Remedy
from reviews.cases.remedies import remedies_due, remedy_apply, remedy_offer
from reviews.cases.services import CaseError
from tests.referrals.test_rewards import StoreCredit

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
    fake_shopify.script = ["503"]  # sent once: a 503 may come after Shopify applied it
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("10"), note="", actor="staff 42")
    remedy.refresh_from_db()
    assert remedy.status == "failed" and remedy.next_attempt_at is not None
    created = len(fake_shopify.calls_to("discountCodeBasicCreate"))
    assert created == 1
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: {
        "id": "gid://shopify/DiscountCodeNode/8", "codeDiscount": {"title": f"Case {case.pk}: {v['code']}"}}
    assert remedies_due(now=timezone.now() + timedelta(hours=1)) == 1
    remedy.refresh_from_db()
    assert (remedy.status, remedy.shopify_id) == ("done", "gid://shopify/DiscountCodeNode/8")
    assert len(fake_shopify.calls_to("discountCodeBasicCreate")) == created  # looked up, not created again


def test_store_credit_is_never_given_twice_when_a_retry_finds_it_already_there(case, fake_shopify, run_jobs):
    credit = StoreCredit(fake_shopify)
    credit.add(case.customer.gid, Decimal("20.00"))  # an earlier credit of the same amount: not this one

    def credit_then_lose_answer(variables):
        credit.credit(variables)  # Shopify credited, but the answer is lost on the way back
        return None

    fake_shopify.responders["storeCreditAccountCredit"] = credit_then_lose_answer
    with run_jobs():
        remedy = remedy_offer(case=case, kind="store_credit", amount=Decimal("20"), note="", actor="staff 42")
    remedy.refresh_from_db()
    assert remedy.status == "failed" and remedy.next_attempt_at is not None
    assert remedies_due(now=timezone.now() + timedelta(hours=1)) == 1
    remedy.refresh_from_db()
    assert remedy.status == "done" and remedy.shopify_id == credit.transactions[case.customer.gid][0]["id"]
    assert len(fake_shopify.calls_to("storeCreditAccountCredit")) == 1
    assert credit.balances[case.customer.gid] == Decimal("40.00")


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
    assert [c for c in fake_shopify.graphql_calls if "flowTriggerReceive" not in str(c)] == []  # Flow heard of the case


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


def _created(fake_shopify):
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/31"}, "userErrors": []}


def test_a_done_discount_code_reaches_the_customer_once_by_email_and_on_their_case_page(
        case, fake_shopify, run_jobs, client, panel_get, shop):
    from django.core import mail

    from reviews.cases.conversation import answer_link, remedy_deliver

    _created(fake_shopify)
    mail.outbox.clear()
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("15"), note="", actor="staff 42")
    remedy.refresh_from_db()
    [sent] = mail.outbox
    assert sent.to == ["maya.r@example.com"] and remedy.code in sent.body and "$15.00 off" in sent.body
    assert "whatever you do with your review" in sent.body
    with run_jobs():  # the job run twice, and the sweep after it: still one message
        assert remedy_deliver(remedy_id=remedy.pk) is None
        from reviews.cases.sweep import cases_sweep

        cases_sweep(now=timezone.now() + timedelta(minutes=10))
    assert len(mail.outbox) == 1 and case.messages.filter(remedy=remedy).count() == 1
    page = client.get("/cases/a/" + answer_link(case).rsplit("/cases/a/", 1)[1]).content.decode()
    assert f'<code class="code">{remedy.code}</code>' in page and "$15.00 off your next order" in page
    merchant = panel_get(f"/app/cases/{case.pk}/", shop).content.decode()
    assert "Sent to the customer" in merchant and "remedy_delivered" in case.events.values_list("action", flat=True)


def test_a_remedy_done_by_a_worker_that_died_before_telling_the_customer_is_told_by_the_sweep(
        case, fake_shopify, run_jobs, monkeypatch):
    from django.core import mail

    from reviews.cases import remedies
    from reviews.cases.sweep import cases_sweep

    _created(fake_shopify)
    monkeypatch.setattr(remedies, "remedy_deliver", lambda **kw: None)  # the process died right after Shopify
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("15"), note="", actor="staff 42")
    mail.outbox.clear()
    monkeypatch.undo()
    with run_jobs():
        cases_sweep(now=timezone.now())  # too soon: the job may still be telling them
    assert mail.outbox == []
    with run_jobs():
        cases_sweep(now=timezone.now() + timedelta(minutes=5))
        cases_sweep(now=timezone.now() + timedelta(minutes=6))
    [sent] = mail.outbox
    assert remedy.code in sent.body


def test_store_credit_is_announced_with_its_amount(case, fake_shopify, run_jobs):
    from django.core import mail

    fake_shopify.responders["customer"] = lambda v: {"storeCreditAccounts": {"nodes": []}}
    fake_shopify.responders["storeCreditAccountCredit"] = lambda v: {
        "storeCreditAccountTransaction": {"id": "gid://shopify/StoreCreditAccountCreditTransaction/4"}, "userErrors": []}
    mail.outbox.clear()
    with run_jobs():
        remedy_offer(case=case, kind="store_credit", amount=Decimal("20"), note="", actor="staff 42")
    [sent] = mail.outbox
    assert "added $20.00 to your store credit" in sent.body


def test_nothing_is_delivered_to_an_erased_customer_and_the_merchant_sees_it_was_not_sent(
        case, fake_shopify, run_jobs, panel_get, shop):
    from django.core import mail

    from reviews.cases.conversation import remedy_deliver

    _created(fake_shopify)
    with run_jobs():
        remedy = remedy_offer(case=case, kind="discount", amount=Decimal("15"), note="", actor="staff 42")
    mail.outbox.clear()
    case.messages.filter(remedy=remedy).delete()
    case.customer.__class__.objects.filter(pk=case.customer_id).update(redacted_at=timezone.now())
    with run_jobs():
        assert remedy_deliver(remedy_id=remedy.pk) is None
    assert mail.outbox == [] and not case.messages.filter(remedy=remedy).exists()
    assert "Not sent: the customer has no email address" in panel_get(f"/app/cases/{case.pk}/", shop).content.decode()


def test_a_redaction_between_the_message_and_its_sending_stops_the_email(case, fake_shopify, run_jobs, shop):
    from django.core import mail

    from reviews.cases.conversation import case_message_send

    from reviews.cases.privacy import cases_redact

    _created(fake_shopify)
    mail.outbox.clear()
    remedy = remedy_offer(case=case, kind="discount", amount=Decimal("15"), note="", actor="staff 42")
    remedy_apply(remedy_id=remedy.pk)  # the message is made; its email job has not run yet
    message = case.messages.get(remedy=remedy)

    class Ref:
        email = "maya.r@example.com"
        shopify_id = 9007199254740993
        phone = ""

    cases_redact(shop, Ref())
    assert case_message_send(message.pk) is False and mail.outbox == []


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
