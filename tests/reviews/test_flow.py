"""The reviews' Shopify Flow triggers, end to end against devstore: a review posted through the
review form tells Flow what a merchant's workflows act on, once, with the customer's and the
order's Shopify ids."""
from __future__ import annotations

import pytest
from django.conf import settings

from reviews.cases.models import Case, CaseSettings
from reviews.models import Review, ReviewRequest
from reviews.requests import review_link
from reviews.services import review_publish, reviews_auto_publish
from shopapp.models import FlowTrigger
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)
from tests.reviews.conftest import order_payload, sweep_at
from tests.reviews.test_form import jpeg_with_gps
from tests.shopapp.test_flow import flow_action_as_devstore_runs_it

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore)


@pytest.fixture
def maya(devstore):  # noqa: F811
    return devstore.customer(DEMO, "maya@example.com")


@pytest.fixture
def delivered(post_webhook, shop, maya, devstore, mail_backend):  # noqa: F811
    """delivered(): Maya's order of devstore's Trail Mug arrives and the review request's day comes."""
    mug = next(p for p in devstore.store.shop(DEMO)["products"].values() if p["title"] == "Trail Mug")
    payload = order_payload(email=maya["email"], customer_id=maya["id"], products=((int(mug["id"]), "Trail Mug"),))

    def deliver() -> ReviewRequest:
        assert post_webhook("orders/create", payload, shop).status_code == 200
        assert post_webhook("orders/fulfilled", {**payload, "fulfillment_status": "fulfilled"}, shop).status_code == 200
        request = ReviewRequest.objects.get(order__shopify_id=payload["id"])
        sweep_at(request.order.fulfilled_at + 14 * DAY)
        request.refresh_from_db()
        return request

    return deliver


@pytest.fixture
def review_form(client, delivered, django_capture_on_commit_callbacks):
    """post(rating, body): Maya posts the review form from her request's link (the jobs each step
    queues run, as workers would)."""

    def post(rating: int, body: str = "The mug arrived cracked.", **extra):
        request = delivered()
        assert request.status == ReviewRequest.Status.SENT
        item = request.items.get()
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(review_link(request).removeprefix(settings.APP_URL),
                                 {f"i{item.pk}-rating": str(rating), f"i{item.pk}-body": body,
                                  **{f"i{item.pk}-{k}": v for k, v in extra.items()}})
        assert answer.status_code == 302, answer.content.decode()[:500]
        return Review.objects.get(order_line__order=request.order)

    return post


def _runs(devstore, handle=None):  # noqa: F811
    return [r for r in devstore.flow_runs(DEMO) if handle is None or r["handle"] == handle]


def test_a_one_star_review_from_the_form_reaches_flow_as_a_negative_review_and_an_opened_case(
        review_form, devstore, maya, shop):  # noqa: F811
    review = review_form(1)
    case = Case.objects.get(review=review)
    order_id = review.order_line.order.shopify_id
    [negative] = _runs(devstore, "advocate-negative-review")
    assert negative["payload"] == {"customer_id": maya["id"], "order_id": order_id, "Rating": 1, "Product": "Trail Mug"}
    [opened] = _runs(devstore, "advocate-case-opened")
    assert opened["payload"] == {"customer_id": maya["id"], "order_id": order_id, "Rating": 1, "Case number": case.pk}
    [published] = _runs(devstore, "advocate-review-published")
    assert published["payload"]["Verified buyer"] is True and published["payload"]["Has photos"] is False
    assert set(FlowTrigger.objects.filter(shop=shop).values_list("status", flat=True)) == {"sent"}
    # devstore's admin shows what Flow received, newest first.
    from devstore import pages

    first, *_, last = [r["handle"] for r in _runs(devstore)]
    admin = pages.admin(devstore.store, DEMO)
    assert "Shopify Flow" in admin and admin.index(last) < admin.index(first)


def test_a_happy_review_with_photos_is_published_to_flow_and_nothing_negative(review_form, devstore):  # noqa: F811
    review_form(5, "Keeps coffee hot all day.", photos=[jpeg_with_gps()])
    assert [r["handle"] for r in _runs(devstore)] == ["advocate-review-published"]
    payload = _runs(devstore)[0]["payload"]
    assert (payload["Rating"], payload["Has photos"], payload["Verified buyer"]) == (5, True, True)


def test_a_case_opened_by_a_keyword_is_not_a_negative_review(review_form, devstore, shop):  # noqa: F811
    CaseSettings.objects.update_or_create(shop=shop, defaults={"keywords": "refund"})
    review = review_form(4, "Lovely, but I want a refund for the lid.")
    assert Case.objects.get(review=review).reason == Case.Reason.KEYWORD
    assert sorted(r["handle"] for r in _runs(devstore)) == ["advocate-case-opened", "advocate-review-published"]


def test_a_held_review_reaches_flow_as_published_only_when_the_merchant_publishes_it(review_form, devstore,  # noqa: F811
                                                                                   django_capture_on_commit_callbacks):
    review = review_form(4, "Write to me at maya@example.com")
    assert review.status == Review.Status.HELD
    assert _runs(devstore, "advocate-review-published") == []
    with django_capture_on_commit_callbacks(execute=True):
        review_publish(review=review, actor="staff 1")
        reviews_auto_publish()  # nothing left to publish: no second event
    [published] = _runs(devstore, "advocate-review-published")
    assert published["payload"]["Rating"] == 4


def test_a_review_whose_trigger_flow_refuses_stays_unsent_and_the_review_is_kept(review_form, devstore):  # noqa: F811
    devstore.fault(DEMO, "flowTriggerReceive", "fail_before", times=10)
    review = review_form(5, "Great.")
    assert review.status == Review.Status.PUBLISHED  # the review does not wait on Flow
    row = FlowTrigger.objects.get(key=f"review-published:{review.pk}")
    assert row.status == FlowTrigger.Status.UNCERTAIN and _runs(devstore) == []


def test_a_customer_a_flow_workflow_paused_gets_no_review_request(client, delivered, devstore, maya, shop):  # noqa: F811
    from django.core import mail

    assert flow_action_as_devstore_runs_it(client, devstore, maya["id"], days=30).status_code == 200
    request = delivered()
    assert request.status == ReviewRequest.Status.SKIPPED
    assert "paused by a Shopify Flow workflow" in request.skip_reason
    assert not [m for m in mail.outbox if maya["email"] in m.to]
