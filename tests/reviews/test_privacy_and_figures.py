"""Reviews in the compliance answers, the merchant's export, the dashboard and the onboarding checklist."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.models import Review, ReviewRequest, ReviewRevision, ReviewSettings
from reviews.services import review_create, review_update
from shopapp.models import Customer
from shopapp.registry import CustomerRef, customer_data_export, customer_data_redact, onboarding_steps, shop_data_export
from tests.reviews.conftest import sweep_at
from tests.reviews.test_storefront import MUG, _get

pytestmark = pytest.mark.django_db


def _reviewed(shop, fulfilled_order, **kwargs) -> Review:
    order = fulfilled_order(**kwargs)
    line = order.lines.get(product_id=MUG)
    review = review_create(shop=shop, product_id=MUG, product_title="Trail Mug", rating=2, title="Chipped",
                           body="Arrived chipped.", display_name="Maya R.", order_line=line, customer=order.customer)
    return review_update(review=review, rating=3, title="Chipped", body="Arrived chipped; replaced fast.",
                         display_name="Maya Rossi", photos=())


def test_a_data_request_includes_the_customers_reviews_and_requests(shop, fulfilled_order):
    review = _reviewed(shop, fulfilled_order)
    data = customer_data_export(shop, CustomerRef(shopify_id=str(review.customer.shopify_id), email="", phone=""))
    mine = data["reviews"]
    assert [r["title"] for r in mine["reviews"]] == ["Chipped"]
    assert mine["reviews"][0]["display_name"] == "Maya Rossi"
    assert [v["rating"] for v in mine["reviews"][0]["earlier_versions"]] == [2]
    assert len(mine["review_requests"]) == 1


def test_redact_removes_the_reviewers_identity_and_the_widget_forgets_it(client, shop, fulfilled_order):
    review = _reviewed(shop, fulfilled_order)
    assert "Maya Rossi" in _get(client, shop, "", format="json").content.decode()  # cached with the name
    customer = review.customer
    customer_data_redact(shop, CustomerRef(shopify_id=str(customer.shopify_id), email=customer.email, phone=""))
    review.refresh_from_db()
    assert (review.customer_id, review.display_name, review.email) == (None, "", "")
    assert review.status == Review.Status.PUBLISHED and review.body  # the review itself stays, anonymous
    assert review.verified  # still from a real order line, which no longer names anyone
    assert set(ReviewRevision.objects.filter(review=review).values_list("display_name", flat=True)) == {""}
    assert not ReviewRequest.objects.filter(customer=customer).exists()
    widget = _get(client, shop, "", format="json").content.decode()
    assert "Maya" not in widget and "Anonymous" in widget


def test_redact_finds_a_storefront_review_by_its_email_only(shop):
    review = review_create(shop=shop, product_id=MUG, product_title="Trail Mug", rating=4, display_name="Guest G.",
                           email="guest@example.com", source=Review.Source.STOREFRONT)
    customer_data_redact(shop, CustomerRef(shopify_id="", email="GUEST@example.com", phone=""))
    review.refresh_from_db()
    assert (review.display_name, review.email) == ("", "")


def test_another_shops_redact_touches_nothing_here(shop, other_shop, fulfilled_order):
    review = _reviewed(shop, fulfilled_order)
    customer_data_redact(other_shop, CustomerRef(shopify_id=str(review.customer.shopify_id), email="maya.r@example.com",
                                                 phone=""))
    review.refresh_from_db()
    assert review.display_name == "Maya Rossi"


def test_the_shop_export_holds_every_review(shop, other_shop):
    review_create(shop=shop, product_id=MUG, product_title="Trail Mug", rating=5, title="Mine")
    review_create(shop=other_shop, product_id=MUG, product_title="Trail Mug", rating=1, title="Theirs")
    exported = shop_data_export(shop)["reviews"]
    assert [r["title"] for r in exported["reviews"]] == ["Mine"]


def test_dashboard_figures_tie_out_with_the_reviews_list(panel_get, shop, other_shop):
    for rating, days_ago, status in [(5, 1, "published"), (4, 2, "held"), (1, 3, "rejected"), (2, 40, "published")]:
        review = review_create(shop=shop, product_id=MUG, product_title="Trail Mug", rating=rating)
        Review.objects.filter(pk=review.pk).update(created_at=timezone.now() - timedelta(days=days_ago), status=status)
    review_create(shop=other_shop, product_id=MUG, product_title="Trail Mug", rating=5)
    page = panel_get("/?range=30", shop).content.decode()
    received = re.search(r"<dt>Reviews received</dt><dd class=\"figure\">(\d+)</dd>", page).group(1)
    average = re.search(r"<dt>Average rating</dt><dd class=\"figure\">([\d.]+) ★</dd>", page).group(1)
    assert (received, average) == ("3", "3.33")
    link = re.search(r'href="(/app/reviews/\?from=[^"]+)"', page).group(1).replace("&amp;", "&")
    listed = panel_get(link.split("&id_token")[0], shop).content.decode()
    assert re.search(r'id="review-count">(\d+) reviews', listed).group(1) == received


def test_the_average_rating_chart_leaves_days_without_reviews_as_gaps(panel_get, shop):
    from reviews.figures import review_figures
    from shopapp.dashboard import Period

    for rating, days_ago in [(5, 1), (1, 1), (4, 3)]:
        review = review_create(shop=shop, product_id=MUG, product_title="Trail Mug", rating=rating)
        Review.objects.filter(pk=review.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    f = review_figures(shop, Period.last(shop, 7))
    assert [p.value for p in f["average_per_day"]] == [None, None, None, 4.0, None, 3.0, None]  # not 0 stars
    assert [p.value for p in f["per_day"]] == [0, 0, 0, 1, 0, 2, 0]  # counts stay zeros
    assert [p.value for p in f["low_per_day"]] == [0, 0, 0, 0, 0, 1, 0]
    page = panel_get("/?range=7", shop).content.decode()
    assert "3 reviews in the last 7 days, 1 of them at 1 or 2 ★" in page
    assert "3.3 ★ on average over 2 days with reviews; lowest" in page
    assert "<td>no reviews</td>" in page and "<td>0.0 ★</td>" not in page


def test_onboarding_tracks_requests_switched_on_and_the_first_review(shop):
    def done():
        return {s["key"]: s["done"] for s in onboarding_steps(shop)}

    ReviewSettings.objects.update_or_create(shop=shop, defaults={"requests_enabled": False})
    assert (done()["review-requests"], done()["first-review"]) == (False, False)
    ReviewSettings.objects.filter(shop=shop).update(requests_enabled=True)
    review_create(shop=shop, product_id=MUG, product_title="Trail Mug", rating=5)
    assert (done()["review-requests"], done()["first-review"]) == (True, True)


def test_requests_to_an_erased_customer_are_cancelled(shop, fulfilled_order):
    order = fulfilled_order()
    customer = Customer.objects.get(pk=order.customer_id)
    customer_data_redact(shop, CustomerRef(shopify_id=str(customer.shopify_id), email=customer.email, phone=""))
    request = ReviewRequest.objects.get(order=order)
    assert request.status == ReviewRequest.Status.CANCELLED and request.customer_id is None
    sweep_at(timezone.now() + timedelta(days=60))
    request.refresh_from_db()
    assert request.sent_at is None


def test_an_incentive_code_is_exported_and_unlinked_on_redact(shop, fulfilled_order):
    from reviews.models import ReviewIncentive

    review = _reviewed(shop, fulfilled_order)
    ReviewIncentive.objects.create(shop=shop, review=review, customer=review.customer, code="THANKS-AB12", percent=10)
    ref = CustomerRef(shopify_id=str(review.customer.shopify_id), email="", phone="")
    assert customer_data_export(shop, ref)["reviews"]["reviews"][0]["incentive_code"] == "THANKS-AB12"
    customer_data_redact(shop, ref)
    assert ReviewIncentive.objects.get(review=review).customer_id is None
