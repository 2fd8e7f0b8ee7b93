"""The Google Product Ratings feed: Google's structure, every published review with words, no personal
data beyond the shown name, identifiers from Shopify, an address only the merchant knows."""
from __future__ import annotations

import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reviews.feed import feed_lines, feed_token_for, product_identifiers_refresh
from reviews.models import ProductRating, Review
from reviews.services import review_create
from shopapp.models import Customer, Shop
from tests.money.conftest import DEMO, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db
# The order Google's 2.4 schema (product_reviews.xsd) gives the children of <review> used here.
REVIEW_ORDER = ["review_id", "reviewer", "is_verified_purchase", "is_incentivized_review", "review_timestamp",
                "title", "content", "review_url", "ratings", "products", "collection_method"]
SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("product_reviews_2_4.xsd"))


def _feed(client, shop) -> ET.Element:
    """The feed as Merchant Center fetches it, valid against Google's schema."""
    response = client.get(f"/feeds/google-reviews/{feed_token_for(shop)}.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    raw = b"".join(response.streaming_content)
    SCHEMA.validate(raw.decode())  # raises with the element and the rule it breaks
    return ET.fromstring(raw)


def _words(n: int) -> str:
    return ["amber basil", "cedar delta", "ember fjord", "grove harbor", "indigo juniper", "kestrel linden"][n]


def test_every_published_review_with_words_is_in_googles_structure(client, shop):
    maya = Customer.objects.create(shop=shop, first_name="Maya", email="maya.private@example.com")
    review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=1, title="Cracked <again> & again",
                  body="Arrived broken\x0b twice.", display_name="Maya R.", customer=maya)
    review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=5, body="Perfect " + _words(0),
                  incentivized=True)
    review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=4)  # stars only: no text for Google
    held = review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=5, body="Visit www.spam.example")
    assert held.status == Review.Status.HELD
    feed = _feed(client, shop)
    assert feed.tag == "feed" and feed.findtext("version") == "2.4"
    assert feed.findtext("publisher/name") == shop.name
    reviews = feed.findall("reviews/review")
    assert [r.findtext("ratings/overall") for r in reviews] == ["1", "5"]  # the 1-star review too
    first, second = reviews
    assert [child.tag for child in first] == REVIEW_ORDER and first.findtext("collection_method") == "post_fulfillment"
    assert first.findtext("title") == "Cracked <again> & again"  # escaped in the XML, parsed back whole
    assert first.findtext("content") == "Arrived broken twice."  # a character XML cannot carry is dropped
    assert first.find("reviewer/name").text == "Maya R." and first.find("reviewer/name").get("is_anonymous") is None
    assert second.find("reviewer/name").get("is_anonymous") == "true"
    assert (first.findtext("is_incentivized_review"), second.findtext("is_incentivized_review")) == ("false", "true")
    assert first.find("ratings/overall").attrib == {"min": "1", "max": "5"}
    assert first.findtext("products/product/product_name") == "Trail Mug"
    raw = ET.tostring(feed, encoding="unicode")
    assert "maya.private@example.com" not in raw and "Maya" not in raw.replace("Maya R.", "")


def test_identifiers_come_from_shopify_once(client, devstore, monkeypatch):  # noqa: F811
    from datetime import timedelta

    devstore.store.app_install(DEMO)
    tokens = devstore.store.tokens_issue(DEMO, expiring=True)
    now = timezone.now()
    shop = Shop.objects.create(domain=DEMO, name="Demo Outfitters", access_token=tokens["access_token"],
                               access_token_expires_at=now + timedelta(hours=1), installed_at=now,
                               refresh_token=tokens["refresh_token"], refresh_token_expires_at=now + timedelta(days=90))
    mug = next(p for p in devstore.store.shop(DEMO)["products"].values() if p["title"] == "Trail Mug")
    review_create(shop=shop, product_id=mug["id"], product_title="Trail Mug", rating=5, body="Lovely " + _words(1))
    assert product_identifiers_refresh(shop) == 1
    assert product_identifiers_refresh(shop) == 0  # read once
    rating = ProductRating.objects.get(shop=shop, product_id=mug["id"])
    assert rating.handle == "trail-mug" and rating.brand == "Demo Outfitters" and rating.skus == ["TRAIL-MUG"]
    product = _feed(client, shop).find("reviews/review/products/product")
    assert product.findtext("product_ids/gtins/gtin") == rating.gtins[0] and len(rating.gtins[0]) == 13
    assert product.findtext("product_ids/skus/sku") == "TRAIL-MUG"
    assert product.findtext("product_ids/brands/brand") == "Demo Outfitters"
    assert product.findtext("product_url").endswith("/products/trail-mug")

    # Read in bulk: 30 newly reviewed products (one of them deleted in Shopify) in two requests.
    from shopapp.admin_api import AdminClient

    ids = [devstore.store.product_create(DEMO, title=f"Cup {n}", price="8.00")["id"] for n in range(29)] + [424242]
    for n, product_id in enumerate(ids):
        review_create(shop=shop, product_id=product_id, product_title="Cup", rating=4, body=f"Nice cup {n}")
    requests, real = [], AdminClient.query
    monkeypatch.setattr(AdminClient, "query", lambda self, *a, **k: requests.append(1) or real(self, *a, **k))
    assert product_identifiers_refresh(shop) == 30
    assert len(requests) == 2
    assert ProductRating.objects.get(shop=shop, product_id=ids[0]).handle == "cup-0"
    assert ProductRating.objects.get(shop=shop, product_id=424242).identifiers_at is not None  # not asked again


def test_the_feed_runs_the_same_queries_for_ten_reviews_or_sixty(client, shop):
    def count_queries() -> int:
        token = feed_token_for(shop)
        with CaptureQueriesContext(connection) as queries:
            b"".join(client.get(f"/feeds/google-reviews/{token}.xml").streaming_content)
        return len(queries)

    for n in range(10):
        Review.objects.create(shop=shop, product_id=n, product_title="Mug", rating=5, body=f"Review {n}",
                              status=Review.Status.PUBLISHED, published_at=timezone.now())
    few = count_queries()
    for n in range(50):
        Review.objects.create(shop=shop, product_id=n, product_title="Mug", rating=4, body=f"More {n}",
                              status=Review.Status.PUBLISHED, published_at=timezone.now())
    assert count_queries() == few


def test_an_unknown_rotated_or_uninstalled_address_is_a_404(client, shop, other_shop):
    from reviews.feed import feed_token_rotate

    review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=5, body="Mine " + _words(2))
    review_create(shop=other_shop, product_id=7, product_title="Their Mug", rating=2, body="Theirs " + _words(3))
    token = feed_token_for(shop)
    assert client.get("/feeds/google-reviews/not-a-real-token-but-long-enough-000000.xml").status_code == 404
    assert [r.findtext("content") for r in _feed(client, other_shop).findall("reviews/review")] == [
        "Theirs " + _words(3)]  # each address holds its own shop's reviews only
    feed_token_rotate(shop)
    assert client.get(f"/feeds/google-reviews/{token}.xml").status_code == 404
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    assert client.get(f"/feeds/google-reviews/{feed_token_for(shop)}.xml").status_code == 404


def test_the_settings_page_gives_the_address_and_says_when_google_will_use_it(panel_get, client, make_session_token,
                                                                            shop):
    review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=5, body="Good " + _words(4))
    page = panel_get("/app/reviews/settings/", shop).content.decode()
    assert f"/feeds/google-reviews/{feed_token_for(shop)}.xml" in page
    assert "1 published review so far" in page and "49 more to go" in page
    old = feed_token_for(shop)
    response = client.post(f"/app/reviews/settings/?id_token={make_session_token(shop.domain)}",
                           {"action": "feed-rotate"})
    assert response.status_code == 200 and "new address" in response.content.decode()
    assert feed_token_for(Shop.objects.get(pk=shop.pk)) != old


def test_the_schema_check_would_catch_a_feed_google_refuses():
    """The schema the feed is checked against refuses what Google refuses (so the check can fail)."""
    valid = ("<feed><version>2.4</version><publisher><name>Shop</name></publisher><reviews><review>"
             "<review_id>1</review_id><reviewer><name>Maya</name></reviewer>"
             "<review_timestamp>2026-01-02T03:04:05Z</review_timestamp><content>Good</content>"
             '<review_url type="group">https://shop.example/products/mug</review_url>'
             '<ratings><overall min="1" max="5">5</overall></ratings>'
             "<products><product><product_url>https://shop.example/products/mug</product_url></product></products>"
             "</review></reviews></feed>")
    SCHEMA.validate(valid)
    for broken in (valid.replace("<content>Good</content>", ""),  # no text
                   valid.replace("<review_id>1</review_id><reviewer><name>Maya</name></reviewer>",
                                 "<reviewer><name>Maya</name></reviewer><review_id>1</review_id>"),  # order
                   valid.replace("2026-01-02T03:04:05Z", "2 January 2026"),
                   valid.replace('type="group"', 'type="page"')):
        assert not SCHEMA.is_valid(broken)


def _published(shop, count: int) -> None:
    now = timezone.now()
    Review.objects.bulk_create([Review(shop=shop, product_id=7, product_title="Trail Mug", rating=1 + n % 5,
                                       body=f"Honest review number {n}", display_name=f"Reviewer {n}",
                                       status=Review.Status.PUBLISHED, published_at=now) for n in range(count)],
                               batch_size=500)


def _peak_bytes(shop) -> tuple[int, int]:
    tracemalloc.start()
    try:
        written = sum(len(part) for part in feed_lines(shop))
        return tracemalloc.get_traced_memory()[1], written
    finally:
        tracemalloc.stop()


def test_the_feed_is_streamed_with_flat_memory(shop):
    """Ten times the reviews, ten times the bytes written, not more memory held: rows come from the
    database a chunk at a time (both sizes here are past one chunk)."""
    _published(shop, 1000)
    small_peak, small_written = _peak_bytes(shop)
    _published(shop, 9000)
    large_peak, large_written = _peak_bytes(shop)
    assert large_written > 9 * small_written
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)  # a list of all rows would be ~10x
