"""Report on a storefront review: a shopper's report waits for the merchant and never takes a
review down by itself; the merchant keeps it or rejects it; another shop sees nothing of it."""
from __future__ import annotations

import re

import pytest

from reviews.models import ModerationDecision, Review, ReviewReport
from reviews.services import review_create
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(shop):
    return review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=1, title="Broke in a week",
                         body="The handle cracked.", display_name="Ana P.")


def _path(review) -> str:
    return f"/proxy/reviews/report/{review.pk}"


def _report(client, shop, review, reason="spam", *, ip="198.51.100.7", token=None):
    page = client.get(f"{_path(review)}?{signed_proxy_query(shop.domain)}", REMOTE_ADDR=ip)
    token = token if token is not None else re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(f"{_path(review)}?{signed_proxy_query(shop.domain)}", {"reason": reason, "form_token": token},
                       REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=ip)


def test_a_report_waits_for_the_merchant_and_leaves_the_review_up(client, shop, review):
    page = client.get(f"{_path(review)}?{signed_proxy_query(shop.domain)}").content.decode()
    assert "What is wrong with it?" in page and "Broke in a week" in page and "Disagreeing with a review" in page
    sent = _report(client, shop, review, "offensive")
    assert sent.status_code == 200 and "will look at this review" in sent.content.decode()
    [report] = ReviewReport.objects.all()
    assert (report.shop, report.review, report.reason, report.dismissed_at) == (shop, review, "offensive", None)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED  # reports never take a review down by themselves


def test_one_shopper_reports_a_review_once(client, shop, review):
    _report(client, shop, review)
    _report(client, shop, review, "unrelated")
    assert ReviewReport.objects.count() == 1
    _report(client, shop, review, ip="203.0.113.50")
    assert ReviewReport.objects.count() == 2


@pytest.mark.parametrize("reason,token,message", [
    ("", None, "Choose what is wrong with the review."),
    ("because-i-said-so", None, "Choose what is wrong with the review."),
    ("spam", "forged", "This page was open for a long time."),
])
def test_a_bad_report_is_refused_clearly_and_records_nothing(client, shop, review, reason, token, message):
    refused = _report(client, shop, review, reason, token=token)
    assert refused.status_code == 400 and message in refused.content.decode()
    assert not ReviewReport.objects.exists()


def test_only_this_shops_published_reviews_can_be_reported(client, shop, other_shop, review):
    assert client.get(f"{_path(review)}?{signed_proxy_query(other_shop.domain)}").status_code == 404
    Review.objects.filter(pk=review.pk).update(status=Review.Status.HELD)
    assert client.get(f"{_path(review)}?{signed_proxy_query(shop.domain)}").status_code == 404
    assert client.get(f"{_path(review)}?shop={shop.domain}").status_code == 401  # not through Shopify's proxy


def test_reports_are_rate_limited(client, shop, review):
    statuses = [client.get(f"{_path(review)}?{signed_proxy_query(shop.domain)}", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code
                for _ in range(61)]
    assert statuses[-1] == 429 and set(statuses[:60]) == {200}
    others = [review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=2, body=f"Meh {i}") for i in range(11)]
    sent = [_report(client, shop, other, ip="192.0.2.2").status_code for other in others]
    assert sent == [200] * 10 + [429]  # ten reports an hour from one shopper
    assert ReviewReport.objects.count() == 10


def test_the_widget_offers_report_under_each_review(client, shop, review):
    fragment = client.get(f"/proxy/reviews/1?{signed_proxy_query(shop.domain, view='fragment')}").content.decode()
    assert f'href="/apps/advocate/reviews/report/{review.pk}"' in fragment
    assert "Report<span class=\"advocate-vh\"> this review by Ana P.</span>" in fragment


def _panel(client, make_session_token, shop, path, data=None):
    url = f"{path}{'&' if '?' in path else '?'}id_token={make_session_token(shop.domain)}"
    return (client.post(url, data) if data is not None else client.get(url)).content.decode()


def test_the_merchant_finds_reported_reviews_and_keeps_one(client, make_session_token, shop, other_shop, review):
    calm = review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=5, title="Lovely", body="Yes.")
    _report(client, shop, review, "spam")
    _report(client, shop, review, "offensive", ip="203.0.113.9")
    listing = _panel(client, make_session_token, shop, "/app/reviews/", None)
    assert "Reported ×2" in listing and "Reported by shoppers (1)" in listing
    reported = _panel(client, make_session_token, shop, "/app/reviews/?reported=yes")
    assert "Broke in a week" in reported and "Lovely" not in reported
    assert calm.title not in reported

    detail = _panel(client, make_session_token, shop, f"/app/reviews/{review.pk}/")
    assert "2 shoppers reported this review" in detail and "Spam or fake" in detail
    assert "Offensive or abusive" in detail
    kept = _panel(client, make_session_token, shop, f"/app/reviews/{review.pk}/", {"action": "keep"})
    assert "Kept on your store; 2 reports closed." in kept
    assert not ReviewReport.objects.open().exists()
    assert ModerationDecision.objects.get(review=review).action == ModerationDecision.Action.REPORTS_DISMISSED
    assert "Reported by shoppers (" not in _panel(client, make_session_token, shop, "/app/reviews/")
    # The other shop sees neither the review nor its reports.
    assert client.get(f"/app/reviews/{review.pk}/?id_token={make_session_token(other_shop.domain)}").status_code == 404


def test_rejecting_a_reported_review_closes_its_reports(client, make_session_token, shop, review):
    _report(client, shop, review, "personal_data")
    _panel(client, make_session_token, shop, f"/app/reviews/{review.pk}/", {"action": "reject", "reason": "personal_data"})
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED
    assert not ReviewReport.objects.open().exists()
    assert not ModerationDecision.objects.filter(action=ModerationDecision.Action.REPORTS_DISMISSED).exists()


def test_the_menu_badge_counts_reported_reviews(shop, client, review):
    from shopapp.registry import panel_nav

    _report(client, shop, review)
    assert next(item for item in panel_nav(shop) if item["key"] == "reviews")["badge"] == 1
