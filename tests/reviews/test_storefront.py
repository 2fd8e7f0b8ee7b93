from __future__ import annotations

import gzip
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from PIL import Image

from reviews.models import ModerationDecision, ProductRating, Review, ReviewSettings
from reviews.photos import CleanPhoto
from reviews.services import (
    product_rating_refresh, review_create, review_photo_hide, review_publish, review_reject, review_reply, review_update,
)
from shopapp.models import Order, OrderLine
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db
MUG = 9007199254741301
EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "advocate-theme"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _photo() -> CleanPhoto:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 40)).save(out, "JPEG")
    return CleanPhoto(out.getvalue(), 40, 30)


def _line(shop, n: int = 1) -> OrderLine:
    order = Order.objects.create(shop=shop, shopify_id=5_000_000 + n + shop.pk * 100_000, currency="USD",
                                 placed_at=timezone.now())
    return OrderLine.objects.create(order=order, shopify_id=6_000_000 + n + shop.pk * 100_000, product_id=MUG,
                                    title="Trail Mug")


def _review(shop, rating=5, *, product_id=MUG, minutes_ago=0, photos=(), verified=False, n=1, **fields) -> Review:
    review = review_create(shop=shop, product_id=product_id, product_title="Trail Mug", rating=rating,
                           display_name=fields.pop("display_name", "Maya R."), photos=photos,
                           order_line=_line(shop, n) if verified else None, **fields)
    if minutes_ago:
        Review.objects.filter(pk=review.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return review


def _bulk(shop, count: int, *, product_id=MUG) -> None:
    now = timezone.now()
    Review.objects.bulk_create([
        Review(shop=shop, product_id=product_id, product_title="Trail Mug", rating=1 + i % 5, title=f"Review {i}",
               body="Fine.", display_name=f"Shopper {i}", status=Review.Status.PUBLISHED, published_at=now,
               created_at=now - timedelta(minutes=i))
        for i in range(count)
    ])
    product_rating_refresh(shop=shop, product_id=product_id, product_title="Trail Mug")


def _get(client, shop, path: str = "", product_id=MUG, domain: str | None = None, **params):
    return client.get(f"/proxy/reviews/{product_id}{path}?{signed_proxy_query(domain or shop.domain, **params)}")


def _text(response) -> str:
    return response.content.decode()


def _titles(page: str) -> list[str]:
    return re.findall(r'<h3 class="advocate-title">(.*?)</h3>', page)


def test_full_page_is_liquid_with_histogram_labels_reply_and_statement(client, shop):
    verified = _review(shop, 5, title="Keeps coffee hot", body="Solid mug.", verified=True, incentivized=True)
    _review(shop, 3, title="Fine", minutes_ago=5)
    review_reply(review=verified, text="Thank you, Maya!", actor="owner")
    response = _get(client, shop)
    page = _text(response)
    assert response.status_code == 200 and response["Content-Type"] == "application/liquid"
    assert "Reviews of Trail Mug" in page
    assert "<strong>4.0</strong> out of 5 · 2 reviews" in page
    histogram = re.findall(r'advocate-h-label">(\d) stars?</span>.*?advocate-h-count">(\d+)<', page)
    assert histogram == [("5", "1"), ("4", "0"), ("3", "1"), ("2", "0"), ("1", "0")]
    first, second = [item.split("</li>")[0] for item in page.split('<li class="advocate-review">')[1:]]
    assert "Verified buyer" in first and "Incentivized" in first and "Reply from Owner Shop" in first
    assert "Thank you, Maya!" in first
    assert "Verified buyer" not in second and "Incentivized" not in second
    assert "we email them after their order and tie the review to that order" in page
    assert "<style>" in page  # readable and styled without the theme's JavaScript


def test_fragment_is_html_for_the_block_and_json_ld_appears_once(client, shop):
    _review(shop, 4, title="Good")
    assert _text(_get(client, shop, view="fragment")).count('<script type="application/ld+json">') == 1
    # The full reviews page is not the product page: no second, partial Product there.
    assert "ld+json" not in _text(_get(client, shop))
    fragment = _get(client, shop, view="fragment")
    assert fragment["Content-Type"].startswith("text/html") and "<style>" not in _text(fragment)
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', _text(fragment), re.S).group(1))
    assert data["@type"] == "Product" and data["name"] == "Trail Mug"
    assert data["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.0, "reviewCount": 1,
                                       "bestRating": 5, "worstRating": 1}
    assert data["review"][0]["reviewRating"]["ratingValue"] == 4 and data["review"][0]["name"] == "Good"
    assert "ld+json" not in _text(_get(client, shop, "/badge"))


def test_only_published_reviews_show_and_count(client, shop):
    _review(shop, 5, title="Published")
    held = _review(shop, 1, title="Held one")
    Review.objects.filter(pk=held.pk).update(status=Review.Status.HELD)
    rejected = _review(shop, 2, title="Rejected one")
    review_reject(review=rejected, reason=ModerationDecision.Reason.SPAM, actor="owner")
    product_rating_refresh(shop=shop, product_id=MUG)
    page = _text(_get(client, shop))
    assert _titles(page) == ["Published"]
    assert "1 review" in page and "Held one" not in page and "Rejected one" not in page


def test_pages_of_ten_with_previous_and_next_links(client, shop):
    _bulk(shop, 23)
    first = _text(_get(client, shop))
    assert len(_titles(first)) == 10 and _titles(first)[0] == "Review 0"
    assert "Page 1 of 3" in first and "Previous" not in first
    assert f'href="/apps/advocate/reviews/{MUG}?page=2" data-advocate-nav rel="next"' in first
    third = _text(_get(client, shop, page="3"))
    assert _titles(third) == ["Review 20", "Review 21", "Review 22"]
    assert "Next</a>" not in third and f"/apps/advocate/reviews/{MUG}?page=2" in third
    assert "Page 3 of 3" in _text(_get(client, shop, page="99"))  # past the end: the last page
    assert "Page 1 of 3" in _text(_get(client, shop, page="nonsense"))


def test_sorting_by_newest_highest_lowest_and_photos_first(client, shop):
    _review(shop, 3, title="Middle", minutes_ago=30)
    _review(shop, 5, title="Best", minutes_ago=20)
    _review(shop, 1, title="Worst", minutes_ago=10, photos=[_photo()])
    _review(shop, 4, title="Newest")
    assert _titles(_text(_get(client, shop))) == ["Newest", "Worst", "Best", "Middle"]
    assert _titles(_text(_get(client, shop, sort="highest"))) == ["Best", "Newest", "Middle", "Worst"]
    assert _titles(_text(_get(client, shop, sort="lowest"))) == ["Worst", "Middle", "Newest", "Best"]
    photos_first = _text(_get(client, shop, sort="photos"))
    assert _titles(photos_first) == ["Worst", "Newest", "Best", "Middle"]
    assert 'aria-current="true">With photos</a>' in photos_first
    assert _titles(_text(_get(client, shop, sort="bogus"))) == ["Newest", "Worst", "Best", "Middle"]


def test_json_has_the_page_the_histogram_and_the_labels(client, shop):
    _review(shop, 5, title="Great", verified=True, photos=[_photo()])
    _review(shop, 2, title="Meh", incentivized=True, minutes_ago=3)
    response = _get(client, shop, format="json")
    data = response.json()
    assert response["Content-Type"] == "application/json"
    assert data["rating"] == {"average": 3.5, "count": 2, "histogram": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}}
    assert (data["page"], data["pages"], data["sort"]) == (1, 1, "newest")
    great, meh = data["reviews"]
    assert (great["title"], great["verified"], great["incentivized"]) == ("Great", True, False)
    assert (meh["verified"], meh["incentivized"]) == (False, True)
    assert great["photos"][0].startswith("/apps/advocate/reviews/photos/")
    assert data["product_id"] == str(MUG) and "Verified buyer" in data["verification"]


def test_star_badge_shows_the_average_and_count_and_nothing_without_reviews(client, shop):
    assert _get(client, shop, "/badge").content == b""
    _review(shop, 5)
    _review(shop, 4, n=2)
    badge = _text(_get(client, shop, "/badge"))
    assert "★★★★★" in badge and " 4.5<span class=\"advocate-vh\"> out of 5 stars,</span> (2" in badge
    assert f'href="/apps/advocate/reviews/{MUG}"' in badge


def test_shopper_text_is_escaped_in_html_json_ld_json_and_liquid(client, shop):
    _review(shop, 5, title="</script><script>alert(1)</script>", body="{{ shop.name }} {% if x %}<b>hi</b>",
            display_name='"><img src=x onerror=alert(2)>')
    page = _text(_get(client, shop))
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>hi</b>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{" not in page and "{%" not in page  # Shopify would run them as Liquid
    page = _text(_get(client, shop, view="fragment"))
    json_ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "</" not in json_ld and "<" not in json_ld
    review = json.loads(json_ld)["review"][0]
    assert review["name"] == "</script><script>alert(1)</script>"
    assert review["reviewBody"] == "{{ shop.name }} {% if x %}<b>hi</b>"
    assert _get(client, shop, format="json").json()["reviews"][0]["body"] == "{{ shop.name }} {% if x %}<b>hi</b>"


def _changes():
    return {
        "created": lambda shop, review: _review(shop, 1, title="Another", n=2),
        "edited": lambda shop, review: review_update(review=review, rating=2, title="Changed my mind", body="",
                                                     display_name="Maya R."),
        "rejected": lambda shop, review: review_reject(review=review, reason="spam", actor="owner"),
        "replied": lambda shop, review: review_reply(review=review, text="We are on it", actor="owner"),
    }


@pytest.mark.parametrize("change", list(_changes()))
def test_a_change_to_a_review_shows_at_once_despite_the_cache(client, shop, change, django_capture_on_commit_callbacks):
    review = _review(shop, 5, title="First")
    before = _text(_get(client, shop))
    assert before == _text(_get(client, shop))  # the cached answer
    with django_capture_on_commit_callbacks(execute=True):
        _changes()[change](shop, review)
    after = _text(_get(client, shop))
    assert after != before
    expected = {"created": "Another", "edited": "Changed my mind", "rejected": "No reviews yet.",
                "replied": "We are on it"}[change]
    assert expected in after


def test_publishing_a_held_review_shows_it(client, shop):
    held = _review(shop, 4, title="Waiting")
    Review.objects.filter(pk=held.pk).update(status=Review.Status.HELD, published_at=None)
    product_rating_refresh(shop=shop, product_id=MUG)
    assert "No reviews yet." in _text(_get(client, shop))
    review_publish(review=held, actor="owner")
    assert _titles(_text(_get(client, shop))) == ["Waiting"]


@pytest.mark.parametrize("count", [10, 200])
def test_queries_stay_flat_whatever_the_number_of_reviews(client, shop, count, django_assert_max_num_queries):
    _bulk(shop, count)
    ReviewSettings.for_shop(shop)
    with django_assert_max_num_queries(5):  # shop, rating, reviews, photos, settings
        assert _get(client, shop).status_code == 200
    with django_assert_max_num_queries(0):  # the shop, the product's version and the page are all remembered
        assert _get(client, shop).status_code == 200
    with django_assert_max_num_queries(1):  # the badge of the same version: the rating once
        assert _get(client, shop, "/badge").status_code == 200
    with django_assert_max_num_queries(0):
        assert _get(client, shop, "/badge").status_code == 200


def test_a_bad_signature_is_refused(client, shop):
    _review(shop, 5, title="Secret")
    query = signed_proxy_query(shop.domain, secret="not-the-secret")
    response = client.get(f"/proxy/reviews/{MUG}?{query}")
    assert response.status_code == 401 and b"Secret" not in response.content
    assert client.get(f"/proxy/reviews/{MUG}?shop={shop.domain}&format=json").status_code == 401


def test_another_shop_sees_nothing_of_this_shops_product(client, shop, other_shop):
    _review(shop, 5, title="Owner shop only")
    for params in ({}, {"format": "json"}):
        answer = _get(client, other_shop, **params)
        assert answer.status_code == 200 and b"Owner shop only" not in answer.content
    assert _get(client, other_shop, format="json").json()["rating"]["count"] == 0
    assert _get(client, other_shop, "/badge").content == b""


def test_review_photos_are_served_for_published_reviews_of_the_signing_shop_only(client, shop, other_shop):
    review = _review(shop, 5, photos=[_photo()])
    photo = review.photos.get()
    path = f"/proxy/reviews/photos/{photo.pk}.jpg"
    response = client.get(f"{path}?{signed_proxy_query(shop.domain)}")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert client.get(f"{path}?{signed_proxy_query(other_shop.domain)}").status_code == 404
    review_reject(review=review, reason="abusive", actor="owner")
    assert client.get(f"{path}?{signed_proxy_query(shop.domain)}").status_code == 404


def test_the_lightbox_gets_the_photo_itself_and_the_list_its_thumbnail(client, shop, other_shop):
    review = _review(shop, 5, photos=[_photo()])
    photo = review.photos.get()
    path = f"/proxy/reviews/photos/{photo.pk}.jpg"
    large = client.get(f"{path}?{signed_proxy_query(shop.domain, size='large')}")
    assert large.status_code == 200 and bytes(large.content) == bytes(photo.image)
    assert Image.open(io.BytesIO(large.content)).size == (photo.width, photo.height)
    assert client.get(f"{path}?{signed_proxy_query(other_shop.domain, size='large')}").status_code == 404
    review_photo_hide(photo=photo, hidden=True, actor="owner")
    assert client.get(f"{path}?{signed_proxy_query(shop.domain, size='large')}").status_code == 404


def test_the_statement_says_what_the_shop_does(client, shop):
    config = ReviewSettings.for_shop(shop)
    config.non_buyer_reviews = True
    config.incentive_enabled = True
    config.save()
    page = _text(_get(client, shop))
    assert "could not check that they bought the product" in page
    assert "Reviews marked “Incentivized” were written for an offer" in page
    assert "unless it breaks our content rules" in page


def test_storefront_requests_are_rate_limited(client, shop, settings):
    for _ in range(600):
        assert _get(client, shop, "/badge").status_code == 200
    refused = _get(client, shop, "/badge")
    assert refused.status_code == 429 and refused["Retry-After"] == "60"


def test_posting_to_the_reviews_endpoint_is_refused(client, shop):
    response = client.post(f"/proxy/reviews/{MUG}?{signed_proxy_query(shop.domain)}")
    assert response.status_code == 405


# --- the theme app extension -------------------------------------------------------

def test_theme_assets_stay_under_10_kb_gzipped_together():
    assets = b"".join((EXTENSION / "assets" / name).read_bytes() for name in ("advocate.js", "advocate.css"))
    assert len(gzip.compress(assets, 9)) < 10 * 1024


def test_blocks_load_through_the_proxy_without_render_blocking_scripts():
    """Nothing of Advocate's in the page's head: no schema stylesheet (Shopify would link it there)."""
    from devstore import theme
    from tests.reviews.test_theme_blocks import product, render

    # Before Advocate's metafields exist (tests/reviews/test_theme_blocks.py covers after).
    reviews, badge = render("reviews.liquid", product=product()), render("star-badge.liquid", product=product())
    assert 'data-src="/apps/advocate/reviews/42"' in reviews
    assert 'data-src="/apps/advocate/reviews/42/badge"' in badge
    # The plain link is the no-JavaScript path: the full reviews page.
    assert '<a href="/apps/advocate/reviews/42">' in reviews
    for block in (reviews, badge):
        markup = re.sub(r'<script type="application/ld\+json"[^>]*>.*?</script>', "", block, flags=re.S)  # data
        # Before the metafields the script must fetch the content: deferred, after the block.
        assert re.findall(r"<script[^>]*>", markup) == ['<script src="/cdn/advocate/advocate.js" defer>']
        # The stylesheet is linked in the block (the body), holding back only the block, as Dawn does.
        assert re.findall(r"<link[^>]*>", markup) == [
            '<link href="/cdn/advocate/advocate.css" rel="stylesheet" type="text/css" media="all">']
    assert not {"stylesheet", "javascript"} & set(theme.block_schema("referral-embed"))
    script = (EXTENSION / "assets" / "advocate.js").read_text()
    assert "view=fragment" in script and "document.write" not in script
    assert all(not {"stylesheet", "javascript"} & set(theme.block_schema(handle)) for handle in theme.blocks_available())


def test_fragments_and_badges_may_be_cached_but_the_full_page_is_shopifys(client, shop):
    _review(shop, 4, title="Good")
    for params in ({"view": "fragment"}, {"format": "json"}):
        assert _get(client, shop, **params)["Cache-Control"].startswith("public, max-age=60")
    assert _get(client, shop, "/badge")["Cache-Control"].startswith("public, max-age=60")
    assert "public" not in (_get(client, shop).get("Cache-Control") or "")


def test_a_review_published_by_another_worker_shows_within_a_second(client, shop, monkeypatch):
    """This worker remembers the product's version for a second; Redis and the database are the truth."""
    from reviews import storefront
    from shopapp import memo

    clock = [1000.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: clock[0])
    _review(shop, 5, title="First")
    assert _titles(_text(_get(client, shop))) == ["First"]
    key = storefront._pointer_key(shop.pk, MUG)
    remembered = storefront._pointers.get(key)
    _review(shop, 4, title="Second", minutes_ago=-1)  # as another worker would: Redis forgets the version...
    storefront._pointers.put(key, remembered)  # ...but this worker still remembers the old one
    assert _titles(_text(_get(client, shop))) == ["First"]
    clock[0] += storefront.POINTER_LOCAL_SECONDS + 0.1
    assert _titles(_text(_get(client, shop))) == ["Second", "First"]


def test_a_cached_page_is_never_served_to_another_shop_asking_for_the_same_product(client, shop, other_shop):
    _review(shop, 5, title="Owner shop only")
    assert _titles(_text(_get(client, shop))) == ["Owner shop only"]  # now remembered in this worker and Redis
    for path, params in (("", {}), ("", {"view": "fragment"}), ("", {"format": "json"}), ("/badge", {})):
        assert b"Owner shop only" not in _get(client, other_shop, path, **params).content
    assert _get(client, other_shop, format="json").json()["rating"]["count"] == 0


def _all(client, shop, **params):
    return client.get(f"/proxy/reviews?{signed_proxy_query(shop.domain, **params)}")


def test_the_all_reviews_page_lists_every_products_reviews_newest_first_in_the_theme(client, shop, other_shop):
    _review(shop, 5, title="Mug old", minutes_ago=30)
    _review(shop, 2, product_id=77, title="Kettle {{ shop.secret }}", minutes_ago=10)
    _review(shop, 4, title="Mug new", minutes_ago=1)
    held = _review(shop, 1, title="Held one")
    Review.objects.filter(pk=held.pk).update(status=Review.Status.HELD)
    product_rating_refresh(shop=shop, product_id=MUG)
    _review(other_shop, 5, title="Another shop's")
    ProductRating.objects.filter(shop=shop, product_id=MUG).update(handle="trail-mug")
    cache.clear()
    answer = _all(client, shop)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/liquid")
    page = _text(answer)
    assert _titles(page) == ["Mug new", "Kettle {&#123; shop.secret }}", "Mug old"]  # shopper text stays text
    assert "<strong>3.7</strong> out of 5 · 3 reviews of all our products" in page
    assert '<a href="/products/trail-mug">Trail Mug</a>' in page  # the product page, where its handle is known
    assert '<a href="/apps/advocate/reviews/77">Trail Mug</a>' in page  # else the product's reviews page
    assert "Held one" not in page and "Another shop" not in page


def test_the_all_reviews_page_pages_through_and_clamps(client, shop):
    for i in range(12):
        _review(shop, 5, title=f"Review {i:02d}", minutes_ago=100 - i)
    cache.clear()
    first = _text(_all(client, shop))
    assert "Page 1 of 2" in first and 'href="/apps/advocate/reviews?page=2"' in first and len(_titles(first)) == 10
    last = _text(_all(client, shop, page="9"))
    assert "Page 2 of 2" in last and _titles(last) == ["Review 01", "Review 00"]
    assert _all(client, shop, page="zwei").status_code == 200


def test_the_all_reviews_page_needs_the_proxy_signature(client, shop):
    assert client.get(f"/proxy/reviews?shop={shop.domain}").status_code == 401
