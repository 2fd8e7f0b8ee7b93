"""Asking the NPS question: off by default, in the review request or on its own, under every rule
review requests follow (opt-outs, the case and Flow pauses, 5 review emails in 30 days)."""
from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from reviews.models import ReviewRequest, ReviewSettings
from reviews.nps.models import NpsSettings, NpsSurvey
from reviews.nps.services import nps_send, nps_sweep
from reviews.requests import review_request_send
from shopapp.models import Customer, Shop
from tests.conftest import load_fixture
from tests.reviews.conftest import order_payload, sweep_at
from tests.reviews.nps.conftest import DAY, nps_on

pytestmark = pytest.mark.django_db
OWN = NpsSettings.Mode.OWN_EMAIL


def _score_links(text: str) -> list[str]:
    return re.findall(r"/nps/[^\s\"?]+\?score=(\d+)", text)


def test_nothing_is_asked_until_the_shop_switches_it_on(fulfilled_order, shop):
    order = fulfilled_order()
    sweep_at(order.fulfilled_at + 14 * DAY)
    nps_sweep(now=order.fulfilled_at + 30 * DAY)
    assert len(mail.outbox) == 1  # the review request, without the question
    assert "/nps/" not in mail.outbox[0].body and "recommend" not in mail.outbox[0].alternatives[0][0]
    assert not NpsSurvey.objects.exists()


def test_the_review_request_carries_eleven_one_click_scores(fulfilled_order, shop):
    nps_on(shop)
    order = fulfilled_order()
    sweep_at(order.fulfilled_at + 14 * DAY)
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert f"How likely are you to recommend {shop.name} to a friend?" in html
    assert _score_links(html) == [str(n) for n in range(11)]
    assert _score_links(message.body) == [str(n) for n in range(11)]
    survey = NpsSurvey.objects.get(order=order)
    assert (survey.channel, survey.status, survey.customer_id) == ("request", "sent", order.customer_id)


def test_the_reminder_does_not_ask_again(fulfilled_order, shop):
    nps_on(shop)
    order = fulfilled_order()
    sweep_at(order.fulfilled_at + 14 * DAY)
    sweep_at(order.fulfilled_at + 22 * DAY)
    assert len(mail.outbox) == 2
    assert "/nps/" not in mail.outbox[1].body
    assert NpsSurvey.objects.count() == 1


def test_the_merchants_preview_shows_the_question_without_making_one(panel_get, shop):
    nps_on(shop)
    response = panel_get("/app/reviews/settings/", shop)
    assert response.status_code == 200
    assert "recommend" in response.content.decode()
    assert not NpsSurvey.objects.exists()


def test_its_own_email_goes_out_days_after_delivery_once(fulfilled_order, shop):
    nps_on(shop, OWN, delay_days=5)
    ReviewSettings.objects.filter(pk=ReviewSettings.for_shop(shop).pk).update(requests_enabled=False)
    order = fulfilled_order()
    survey = NpsSurvey.objects.get(order=order)
    assert survey.due_at == order.fulfilled_at + 5 * DAY
    nps_sweep(now=order.fulfilled_at + 4 * DAY)
    assert mail.outbox == []
    nps_sweep(now=order.fulfilled_at + 5 * DAY)
    nps_sweep(now=order.fulfilled_at + 6 * DAY)
    [message] = mail.outbox
    assert message.subject == f"A quick question from {shop.name}"
    assert _score_links(message.alternatives[0][0]) == [str(n) for n in range(11)]
    assert "Unsubscribe" in message.alternatives[0][0] and message.extra_headers["List-Unsubscribe"]


def test_a_reported_delivery_moves_the_question_after_it(fulfilled_order, post_webhook, shop):
    nps_on(shop, OWN, delay_days=5)
    order = fulfilled_order()
    post_webhook("fulfillments/update", {"id": 77, "order_id": order.shopify_id, "status": "success",
                                         "shipment_status": "delivered", "updated_at": "2099-11-23T10:00:00Z"}, shop)
    order.refresh_from_db()
    assert NpsSurvey.objects.get(order=order).due_at == order.delivered_at + 5 * DAY


def test_two_workers_claiming_the_same_question_send_it_once(fulfilled_order, shop):
    nps_on(shop, OWN)
    order = fulfilled_order()
    survey = NpsSurvey.objects.get(order=order)
    results = [nps_send(survey_id=survey.pk, now=survey.due_at) for _ in range(2)]
    assert results == [True, False]
    assert [m.subject for m in mail.outbox] == [f"A quick question from {shop.name}"]


@pytest.mark.parametrize("block", ["unsubscribed", "shopify_opt_out", "case", "flow_pause"])
def test_opt_outs_and_pauses_hold_the_question_back(fulfilled_order, shop, block):
    from shopapp import registry
    from shopapp.models import EmailPause

    nps_on(shop, OWN)
    ReviewSettings.objects.filter(pk=ReviewSettings.for_shop(shop).pk).update(requests_enabled=False)
    order = fulfilled_order(marketing="unsubscribed" if block == "shopify_opt_out" else None)
    customer = order.customer
    if block == "unsubscribed":
        Customer.objects.filter(pk=customer.pk).update(unsubscribed_at=timezone.now())
    elif block == "case":
        registry.register_marketing_block(lambda s, c: "has an open case" if c.pk == customer.pk else None)
    elif block == "flow_pause":
        EmailPause.objects.create(shop=shop, customer_shopify_id=customer.shopify_id,
                                  until=timezone.now() + 400 * DAY, action_run_id="run-1")
    nps_sweep(now=order.fulfilled_at + 8 * DAY)
    assert mail.outbox == []
    survey = NpsSurvey.objects.get(order=order)
    assert survey.status == NpsSurvey.Status.SKIPPED and survey.skip_reason


def test_its_own_email_counts_in_the_review_emails_cap_both_ways(fulfilled_order, shop):
    nps_on(shop, OWN)
    orders = [fulfilled_order(products=((100 + i, f"Product {i}"),)) for i in range(5)]
    when = max(o.fulfilled_at for o in orders) + 14 * DAY
    for order in orders[:4]:
        review_request_send(request_id=ReviewRequest.objects.get(order=order).pk, now=when)
    nps_sweep(now=when)  # one question (a customer is asked once in 90 days): the fifth review email
    assert len(mail.outbox) == 5
    last = review_request_send(request_id=ReviewRequest.objects.get(order=orders[4]).pk, now=when)
    assert last.status == ReviewRequest.Status.SKIPPED and "limit of review emails" in last.skip_reason
    assert len(mail.outbox) == 5


def test_a_customer_is_asked_once_in_ninety_days(fulfilled_order, shop):
    nps_on(shop, OWN)
    first = fulfilled_order(products=((1, "Trail Mug"),))
    second = fulfilled_order(products=((2, "Camp Kettle"),))
    nps_sweep(now=max(first.fulfilled_at, second.fulfilled_at) + 8 * DAY)
    statuses = sorted(NpsSurvey.objects.values_list("status", flat=True))
    assert statuses == ["sent", "skipped"]
    assert len([m for m in mail.outbox if m.subject.startswith("A quick question")]) == 1


def test_a_cancelled_order_is_not_asked(fulfilled_order, post_webhook, shop):
    nps_on(shop, OWN)
    order = fulfilled_order()
    post_webhook("orders/cancelled", {**order_payload(), "id": order.shopify_id, "cancelled_at": "2026-11-21T10:00:00Z",
                                      "fulfillment_status": "fulfilled"}, shop)
    assert NpsSurvey.objects.get(order=order).status == NpsSurvey.Status.CANCELLED
    nps_sweep(now=order.fulfilled_at + 30 * DAY)
    assert not [m for m in mail.outbox if "question" in m.subject]


def test_an_uninstalled_shop_sends_no_question(fulfilled_order, post_webhook, shop, other_shop):
    nps_on(shop, OWN)
    nps_on(other_shop, OWN)
    order = fulfilled_order()
    others = fulfilled_order(other_shop, email="sam@example.com")
    assert post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop).status_code == 200
    assert Shop.objects.get(pk=shop.pk).uninstalled_at is not None
    nps_sweep(now=max(order.fulfilled_at, others.fulfilled_at) + 8 * DAY)
    assert [m.to for m in mail.outbox if "question" in m.subject] == [["sam@example.com"]]
    assert NpsSurvey.objects.get(order=order).status == NpsSurvey.Status.SCHEDULED
    # Claimed meanwhile (a sweep that loaded the shop before the uninstall): put back, nothing sent.
    assert nps_send(survey_id=NpsSurvey.objects.get(order=order).pk, now=order.fulfilled_at + 8 * DAY) is False
    assert NpsSurvey.objects.get(order=order).status == NpsSurvey.Status.SCHEDULED


def test_a_question_that_came_due_long_before_a_reinstall_is_dropped(fulfilled_order, shop):
    nps_on(shop, OWN)
    order = fulfilled_order()
    nps_sweep(now=order.fulfilled_at + 30 * DAY)
    survey = NpsSurvey.objects.get(order=order)
    assert (survey.status, survey.skip_reason) == ("skipped", "came due too long ago")
    assert mail.outbox == [] or all("question" not in m.subject for m in mail.outbox)
