"""A changed friend offer reaches every advocate's Shopify code, even when a job is lost or Shopify fails."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Advocate, ProgramSettings
from referrals.program import advocate_code_update, advocate_code_updates_due, advocate_codes_resync
from tests.referrals.helpers import customer, discount_created

pytestmark = pytest.mark.django_db


@pytest.fixture
def created(shop, fake_shopify):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    ProgramSettings.objects.create(shop=shop, friend_offer_value="20")
    return Advocate.objects.create(shop=shop, customer=customer(shop), code="MAYA-7K2Q",
                                   code_state=Advocate.CodeState.CREATED, discount_gid="gid://shopify/DiscountCodeNode/7")


def test_a_lost_update_job_is_re_driven_by_the_sweep(created, fake_shopify, monkeypatch,
                                                    django_capture_on_commit_callbacks):
    from shopapp import jobs

    fake_shopify.responders["discountCodeBasicUpdate"] = discount_created
    lost = []
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "_dispatch", lambda func, args: lost.append(func))  # Redis lost the job
        with django_capture_on_commit_callbacks(execute=True):
            assert advocate_codes_resync(shop=created.shop) == 1
    assert lost and fake_shopify.calls_to("discountCodeBasicUpdate") == []
    with django_capture_on_commit_callbacks(execute=True):
        assert advocate_code_updates_due() == 1
    assert len(fake_shopify.calls_to("discountCodeBasicUpdate")) == 1
    created.refresh_from_db()
    assert created.code_next_attempt_at is None
    assert advocate_code_updates_due() == 0  # done: nothing left to re-drive


def test_a_failed_update_waits_and_keeps_the_error(created, fake_shopify):
    fake_shopify.responders["discountCodeBasicUpdate"] = lambda v: {
        "codeDiscountNode": None, "userErrors": [{"field": ["basicCodeDiscount", "customerGets"], "message": "Value is invalid", "code": "INVALID"}]}
    Advocate.objects.filter(pk=created.pk).update(code_next_attempt_at=timezone.now())
    advocate = advocate_code_update(advocate=created)
    assert advocate.code_error == "Value is invalid"
    assert advocate.code_next_attempt_at > timezone.now() + timedelta(minutes=10)
    assert advocate.code_state == Advocate.CodeState.CREATED


def test_a_discount_deleted_in_shopify_is_made_again_from_the_current_offer(created, fake_shopify,
                                                                          django_capture_on_commit_callbacks):
    fake_shopify.responders["discountCodeBasicUpdate"] = lambda v: {
        "codeDiscountNode": None, "userErrors": [{"field": ["id"], "message": "Discount does not exist", "code": "INVALID"}]}
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: None
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/99"}, "userErrors": []}
    Advocate.objects.filter(pk=created.pk).update(code_next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        advocate_code_update(advocate=created)
    created.refresh_from_db()
    assert (created.code_state, created.discount_gid) == (Advocate.CodeState.CREATED, "gid://shopify/DiscountCodeNode/99")
    made = fake_shopify.calls_to("discountCodeBasicCreate")[0]["variables"]["input"]
    assert made["code"] == "MAYA-7K2Q" and made["customerGets"]["value"] == {"percentage": 0.2}


def test_an_update_already_claimed_is_not_sent_twice(created, fake_shopify):
    fake_shopify.responders["discountCodeBasicUpdate"] = discount_created
    Advocate.objects.filter(pk=created.pk).update(code_next_attempt_at=timezone.now())
    advocate_code_update(advocate=created)
    advocate_code_update(advocate=created)  # a duplicate delivery of the same job
    assert len(fake_shopify.calls_to("discountCodeBasicUpdate")) == 1
