"""Look-back runs: the preview counts what the run will send, by the review requests' own rule; the run
sends exactly that, spread at the merchant's rate, checking each rule again when an email is due;
starting twice starts once, a job run twice schedules once, a cancel stops what has not gone out."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from django.core import mail
from django.utils import timezone

from reviews.lookback.models import LookbackRequest, LookbackRun
from reviews.lookback.services import (
    CANCELLED, Window, _request_create, lookback_cancel, lookback_plan, lookback_preview, lookback_progress,
    lookback_schedule, lookback_sweep,
)
from reviews.models import ReviewRequest
from reviews.requests import NOTHING_TO_ASK, review_requests_sweep
from reviews.services import review_create
from shopapp.models import Customer
from tests.conftest import load_fixture
from tests.reviews.lookback.conftest import DAY

pytestmark = pytest.mark.django_db
WINDOW = {"newest_days": 30, "oldest_days": 180}


@pytest.fixture
def lookback_start(django_capture_on_commit_callbacks):
    """lookback_start with its scheduling job run after commit, as a worker would; the run as it is then."""
    from reviews.lookback.services import lookback_start as start

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            found, created = start(**kwargs)
        found.refresh_from_db()
        return found, created

    return run


@pytest.fixture
def history(past_order, shop):
    """Customers of the last two years, one for each rule, and who should be asked."""
    from shopapp import registry

    now = timezone.now()
    ask = {
        "ann@example.com": past_order(now, 60, email="ann@example.com", customer_id=101,
                                      products=((1, "Trail Mug"), (2, "Camp Kettle"))),
        # Two orders in the window: asked once, about the latest.
        "ben@example.com": past_order(now, 50, email="ben@example.com", customer_id=102, products=((3, "Lamp"),)),
        # One product reviewed already (on the storefront): asked about the other one only.
        "max@example.com": past_order(now, 90, email="max@example.com", customer_id=113,
                                      products=((8, "Tent"), (9, "Stove"))),
    }
    past_order(now, 100, email="ben@example.com", customer_id=102, products=((4, "Rope"),))
    review_create(shop=shop, product_id=8, product_title="Tent", rating=5, customer=ask["max@example.com"].customer)
    unsubscribed = past_order(now, 40, email="cy@example.com", customer_id=103)
    Customer.objects.filter(pk=unsubscribed.customer_id).update(unsubscribed_at=now)
    past_order(now, 45, email="dee@example.com", customer_id=104, marketing="unsubscribed")
    in_case = past_order(now, 70, email="eve@example.com", customer_id=105)
    registry.register_marketing_block(lambda s, c: "has an open case" if c.pk == in_case.customer_id else None)
    past_order(now, 80, email="fay@example.com", customer_id=106, cancelled=True)
    reviewed = past_order(now, 120, email="gus@example.com", customer_id=107, products=((6, "Bottle"),))
    review_create(shop=shop, product_id=6, product_title="Bottle", rating=2, customer=reviewed.customer)
    capped = past_order(now, 130, email="hal@example.com", customer_id=108, products=((7, "Cup"),))
    for i in range(5):  # five review emails this week already
        recent = past_order(now, 3, email="hal@example.com", customer_id=108, products=((200 + i, f"Thing {i}"),))
        ReviewRequest.objects.create(shop=shop, order=recent, customer=capped.customer, status="sent",
                                     due_at=now - DAY, sent_at=now - DAY)
    past_order(now, 10, email="ivy@example.com", customer_id=109)  # too recent
    past_order(now, 200, email="jo@example.com", customer_id=110)  # too old
    has_request = past_order(now, 60, email="kim@example.com", customer_id=111)
    ReviewRequest.objects.create(shop=shop, order=has_request, customer=has_request.customer, due_at=now + DAY)
    past_order(now, 60, guest=True, email="")
    return now, ask


def _first_emails():
    """(recipient, products asked) of every review request emailed, reminders left out: the recipients
    from the outbox, the products from the links in each email (one per asked item)."""
    from reviews.models import ReviewRequestItem

    sent = []
    for message in mail.outbox:
        if message.subject.startswith("How was your order"):
            items = re.findall(r"\?item=(\d+)", message.body)
            titles = ReviewRequestItem.objects.filter(pk__in=items).values_list("title", flat=True)
            sent.append((message.to[0], tuple(sorted(titles))))
    return sorted(sent)


def test_the_preview_counts_what_the_rules_allow(history, shop):
    now, ask = history
    preview = lookback_preview(shop, **WINDOW, per_day=2, now=now)
    assert (preview.emails, preview.customers) == (3, 3)
    assert preview.products == {1, 2, 3, 9}  # not the reviewed Tent, not Ben's older Rope
    assert preview.excluded == Counter({
        "unsubscribed from Advocate's emails": 1, "opted out of marketing in Shopify": 1, "has an open case": 1,
        "order refunded or cancelled": 1, NOTHING_TO_ASK: 1, "the limit of review emails to one customer in 30 days is reached": 1})
    assert preview.guest_orders == 1
    assert (preview.first_at, preview.last_at) == (now, now + DAY)  # 2 a day: 0, 12 h, 24 h
    assert not ReviewRequest.objects.filter(order__in=ask.values()).exists()  # a preview creates nothing


def test_a_run_sends_exactly_what_its_preview_said(lookback_start, history, shop):
    now, ask = history
    preview = lookback_preview(shop, **WINDOW, per_day=2, now=now)
    run, created = lookback_start(shop=shop, **WINDOW, per_day=2, actor="staff 42", now=now)
    assert created and run.status == LookbackRun.Status.RUNNING
    assert (run.preview_emails, run.preview_customers, run.preview_products) == (3, 3, 4)
    due = sorted(ReviewRequest.objects.filter(lookback__run=run).values_list("due_at", flat=True))
    assert due == [now, now + DAY / 2, now + DAY]  # spread at the rate
    for hours in range(0, 49, 6):  # the sweep every 6 hours for two days, each round twice
        review_requests_sweep(now=now + hours * DAY / 24)
        review_requests_sweep(now=now + hours * DAY / 24)
    assert _first_emails() == [("ann@example.com", ("Camp Kettle", "Trail Mug")), ("ben@example.com", ("Lamp",)),
                               ("max@example.com", ("Stove",))]
    progress = lookback_progress(run)
    assert (progress.sent, progress.held, progress.waiting) == (preview.emails, 0, 0)
    lookback_sweep(now=now + 2 * DAY)
    assert LookbackRun.objects.get(pk=run.pk).status == LookbackRun.Status.DONE


def test_each_rule_is_checked_again_when_the_email_is_due(lookback_start, history, shop):
    now, ask = history
    run, _ = lookback_start(shop=shop, **WINDOW, per_day=1, actor="staff", now=now)
    ben = ask["ben@example.com"].customer
    Customer.objects.filter(pk=ben.pk).update(unsubscribed_at=now)  # after the preview, before their email
    for day in range(3):
        review_requests_sweep(now=now + day * DAY)
    assert [to for to, _ in _first_emails()] == ["ann@example.com", "max@example.com"]
    progress = lookback_progress(run)
    assert (progress.sent, progress.held) == (2, 1)
    assert progress.skip_reasons == [("unsubscribed from Advocate's emails", 1)]


def test_starting_twice_starts_one_run(lookback_start, history, shop):
    now, _ = history
    first, created = lookback_start(shop=shop, **WINDOW, per_day=2, actor="a", now=now)
    second, again = lookback_start(shop=shop, **WINDOW, per_day=50, actor="b", now=now)
    assert (created, again, second.pk) == (True, False, first.pk)
    assert LookbackRun.objects.count() == 1 and ReviewRequest.objects.filter(lookback__run=first).count() == 3


def test_a_scheduling_job_run_twice_or_resumed_schedules_each_send_once(history, shop):
    now, _ = history
    run = LookbackRun.objects.create(shop=shop, **WINDOW, per_day=2, starts_at=now, fulfilled_from=now - 180 * DAY,
                                     fulfilled_until=now - 30 * DAY)
    window = Window(run.fulfilled_from, run.fulfilled_until)
    first = next(lookback_plan(shop, window, per_day=2, start=now, run=run))
    assert _request_create(run, first)  # a worker that died after its first request
    assert lookback_schedule(run.pk) == 2
    assert lookback_schedule(run.pk) == 0
    rows = list(LookbackRequest.objects.filter(run=run).select_related("request"))
    assert [(r.slot, r.request.due_at) for r in rows] == [(0, now), (1, now + DAY / 2), (2, now + DAY)]


def test_orders_that_already_have_a_request_are_left_out_of_a_later_run(lookback_start, history, shop):
    now, _ = history
    run, _ = lookback_start(shop=shop, **WINDOW, per_day=10, actor="a", now=now)
    review_requests_sweep(now=now + DAY)
    lookback_sweep(now=now + DAY)
    later = lookback_preview(shop, **WINDOW, per_day=10, now=now + DAY)
    # Ann, Ben and Max were asked (their orders now have requests); Ben is not asked about his older one.
    assert later.emails == 0 and later.excluded["asked by an earlier look-back run"] == 1
    again, created = lookback_start(shop=shop, **WINDOW, per_day=10, actor="a", now=now + DAY)
    assert created and ReviewRequest.objects.filter(lookback__run=again).count() == 0


def test_cancelling_stops_what_has_not_gone_out_and_frees_those_orders(lookback_start, history, shop):
    now, ask = history
    run, _ = lookback_start(shop=shop, **WINDOW, per_day=1, actor="a", now=now)
    review_requests_sweep(now=now)
    assert lookback_cancel(run=run) == 2
    assert LookbackRun.objects.get(pk=run.pk).status == LookbackRun.Status.CANCELLED
    for day in range(1, 4):
        review_requests_sweep(now=now + day * DAY)
    assert [to for to, _ in _first_emails()] == ["ann@example.com"]
    # The two not sent can be asked by a later run.
    assert lookback_preview(shop, **WINDOW, per_day=1, now=now + DAY).customers == 2
    assert not ReviewRequest.objects.filter(skip_reason=CANCELLED).exists()


def test_a_cancel_during_scheduling_leaves_no_request_behind(history, shop):
    now, _ = history
    run = LookbackRun.objects.create(shop=shop, **WINDOW, per_day=2, starts_at=now, fulfilled_from=now - 180 * DAY,
                                     fulfilled_until=now - 30 * DAY)
    lookback_cancel(run=run)
    assert lookback_schedule(run.pk) == 0
    assert not ReviewRequest.objects.filter(lookback__run=run).exists()


def test_a_lost_scheduling_job_is_driven_again_by_the_sweep(history, shop, django_capture_on_commit_callbacks):
    now, _ = history
    run = LookbackRun.objects.create(shop=shop, **WINDOW, per_day=2, starts_at=now, fulfilled_from=now - 180 * DAY,
                                     fulfilled_until=now - 30 * DAY, created_at=now - DAY)
    with django_capture_on_commit_callbacks(execute=True):
        lookback_sweep(now=now)
    assert LookbackRun.objects.get(pk=run.pk).status == LookbackRun.Status.RUNNING
    assert ReviewRequest.objects.filter(lookback__run=run).count() == 3


def test_uninstall_stops_the_run_and_its_scheduling(lookback_start, history, shop, post_webhook):
    now, _ = history
    run, _ = lookback_start(shop=shop, **WINDOW, per_day=1, actor="a", now=now)
    assert post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop).status_code == 200
    for day in range(3):
        review_requests_sweep(now=now + day * DAY)
    assert _first_emails() == []
    assert set(ReviewRequest.objects.filter(lookback__run=run).values_list("status", flat=True)) == {"cancelled"}
    LookbackRun.objects.filter(pk=run.pk).update(status=LookbackRun.Status.SCHEDULING)  # as if still scheduling
    assert lookback_schedule(run.pk) == 0  # an uninstalled shop's run schedules nothing


def test_another_shops_orders_are_never_in_this_shops_run(history, shop, other_shop, past_order):
    now, _ = history
    past_order(now, 60, target_shop=other_shop, email="out@example.com", customer_id=999)
    assert lookback_preview(other_shop, **WINDOW, per_day=2, now=now).emails == 1
    assert lookback_preview(shop, **WINDOW, per_day=2, now=now).emails == 3
