"""Uninstall stops review requests at once; a reinstall resumes only what a merchant would expect (#16.3)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from reviews.lifecycle import UNINSTALLED
from reviews.models import ReviewRequest
from reviews.requests import review_request_send
from shopapp.models import Shop
from tests.conftest import load_fixture
from tests.reviews.conftest import sweep_at

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


@pytest.fixture
def uninstall(post_webhook):
    def run(shop):
        assert post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop).status_code == 200
    return run


def test_a_due_request_is_not_sent_once_the_shop_has_uninstalled(fulfilled_order, shop, other_shop, uninstall):
    order = fulfilled_order()
    others = fulfilled_order(other_shop, email="sam@example.com")
    uninstall(shop)

    sweep_at(order.fulfilled_at + 15 * DAY)
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]  # the other shop's request still goes out
    request = ReviewRequest.objects.get(order=order)
    assert (request.status, request.skip_reason) == (ReviewRequest.Status.CANCELLED, UNINSTALLED)
    assert ReviewRequest.objects.get(order=others).status == ReviewRequest.Status.SENT


def test_a_request_a_late_webhook_schedules_after_the_uninstall_is_not_sent(fulfilled_order, shop, uninstall):
    uninstall(shop)
    order = fulfilled_order()  # orders/fulfilled arriving after app/uninstalled
    sweep_at(order.fulfilled_at + 15 * DAY)
    assert mail.outbox == []


def test_a_reminder_due_after_the_uninstall_is_not_sent(fulfilled_order, shop, uninstall):
    order = fulfilled_order()
    due = order.fulfilled_at + 14 * DAY
    sweep_at(due)
    assert len(mail.outbox) == 1
    uninstall(shop)
    sweep_at(due + 30 * DAY)
    assert len(mail.outbox) == 1
    assert ReviewRequest.objects.get(order=order).reminder_due_at is None


def test_a_request_claimed_just_before_the_uninstall_sends_nothing(fulfilled_order, shop):
    order = fulfilled_order()
    request = ReviewRequest.objects.get(order=order)
    # The uninstall lands after the sweep selected the row: only the send's own guard is left.
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    review_request_send(request_id=request.pk, now=order.fulfilled_at + 15 * DAY)
    assert mail.outbox == []
    assert ReviewRequest.objects.get(pk=request.pk).status == ReviewRequest.Status.SCHEDULED


def test_reinstall_resumes_requests_that_came_due_within_a_week_and_drops_older_ones(
        fulfilled_order, shop, uninstall, panel_get, fake_shopify):
    now = timezone.now()
    recent = fulfilled_order(email="recent@example.com", customer_id=101)
    stale = fulfilled_order(email="stale@example.com", customer_id=102)
    upcoming = fulfilled_order(email="upcoming@example.com", customer_id=103)
    ReviewRequest.objects.filter(order=recent).update(due_at=now - 2 * DAY)
    ReviewRequest.objects.filter(order=stale).update(due_at=now - 10 * DAY)
    ReviewRequest.objects.filter(order=upcoming).update(due_at=now + 3 * DAY)
    uninstall(shop)
    sweep_at(now)
    assert mail.outbox == []

    assert panel_get("/", shop).status_code == 200  # the merchant installs Advocate again
    status = {r.order_id: r.status for r in ReviewRequest.objects.for_shop(shop)}
    S = ReviewRequest.Status
    assert status == {recent.pk: S.SCHEDULED, stale.pk: S.CANCELLED, upcoming.pk: S.SCHEDULED}

    sweep_at(now + timedelta(minutes=1))
    assert [m.to for m in mail.outbox] == [["recent@example.com"]]
    sweep_at(now + 4 * DAY)
    assert [m.to for m in mail.outbox] == [["recent@example.com"], ["upcoming@example.com"]]


def test_reconnecting_a_dead_token_is_not_a_reinstall_and_leaves_requests_alone(fulfilled_order, shop, panel_get,
                                                                             fake_shopify):
    order = fulfilled_order()
    ReviewRequest.objects.filter(order=order).update(status=ReviewRequest.Status.CANCELLED, skip_reason="order refunded")
    Shop.objects.filter(pk=shop.pk).update(access_token="", refresh_token="")
    assert panel_get("/", shop).status_code == 200
    assert ReviewRequest.objects.get(order=order).status == ReviewRequest.Status.CANCELLED
