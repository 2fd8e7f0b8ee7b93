"""The shop's featured reviews (`$app.featured_reviews`, read by the home page's carousel block):
what they hold, how each change refreshes them, and what redaction takes out, checked in devstore."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews import metafields
from reviews.metafields import FEATURED_COUNT, featured_reviews, featured_value, metafields_sweep, product_metafields_sync
from reviews.models import FeaturedReviews, Review
from reviews.photos import CleanPhoto
from reviews.services import review_create, review_photo_hide, review_reject, review_update
from shopapp.models import Customer, Shop
from tests.money.conftest import DEMO, devstore  # noqa: F401  (the devstore fixture)
from tests.reviews.test_metafields import _in_shopify, _review, _words, products, shop  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _featured(devstore):  # noqa: F811
    """The shop's metafield as devstore holds it, parsed (None when there is none)."""
    from devstore.metafields import owner_metafield
    from devstore.state import gid

    found = owner_metafield(devstore.store, DEMO, gid("Shop", devstore.store.shop(DEMO)["id"]), "$app",
                            "featured_reviews")
    return json.loads(found["value"]) if found else None


def _photo() -> CleanPhoto:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, "JPEG")
    return CleanPhoto(data=out.getvalue(), width=40, height=30)


def test_the_newest_good_reviews_with_words_and_a_name_reach_the_shops_metafield(shop, devstore, products):  # noqa: F811
    mug, tent = products["Trail Mug"], products["Canvas Backpack"]
    _review(shop, mug, rating=5, display_name="Maya R.", title="Lovely")
    _review(shop, tent, rating=3, display_name="Sam K.")  # below four stars
    review_create(shop=shop, product_id=mug, product_title="Trail Mug", rating=5, title="Stars only", body="  ",
                  display_name="Ivo")  # no words
    _review(shop, mug, rating=5, display_name="")  # anonymous
    pia = review_create(shop=shop, product_id=tent, product_title="Canvas Backpack", rating=4,
                        body="Dry through a storm on the ridge.", display_name="Pia", photos=[_photo()])
    held = review_create(shop=shop, product_id=mug, product_title="Trail Mug", rating=5,
                         body="Great, see www.spam.example", display_name="Bot")
    assert held.status == Review.Status.HELD

    assert product_metafields_sync(shop.pk) == 2
    data = _featured(devstore)
    assert [r["author"] for r in data["reviews"]] == ["Pia", "Maya R."]  # newest first
    first = data["reviews"][0]
    assert (first["product_title"], first["handle"], first["rating"], first["verified"]) == ("Canvas Backpack", "canvas-backpack", 4, False)
    assert first["body"] == "Dry through a storm on the ridge." and first["date"] == timezone.now().date().isoformat()
    assert first["photo"] == f"/apps/advocate/reviews/photos/{pia.photos.get().pk}.jpg"
    assert data["reviews"][1]["photo"] is None and data["reviews"][1]["title"] == "Lovely"
    # The shop's average and count are over every published review, whatever the carousel shows.
    assert (data["count"], data["average"]) == (5, 4.4)
    row = FeaturedReviews.objects.get(shop=shop)
    assert row.synced_version == row.version and Shop.objects.get(pk=shop.pk).shopify_gid.startswith("gid://shopify/Shop/")


def test_twelve_at_most_cut_to_a_card_and_well_under_shopifys_limit(shop, devstore, products):  # noqa: F811
    for n in range(FEATURED_COUNT + 3):
        _review(shop, products["Trail Mug"], title=("A long honest title " * 7)[:120], display_name="Reviewer with a long name " * 2 + "x" * 8,
                body=(f"Ünïcödé wörds ✓ {_words(n)} " * 300)[:4900])
    value = featured_value(shop, featured_reviews(shop))
    data = json.loads(value)
    assert len(data["reviews"]) == FEATURED_COUNT
    assert all(len(r["body"]) <= metafields.FEATURED_WORDS + 1 and r["body"].endswith("…") for r in data["reviews"])
    assert len(value.encode()) < 64 * 1024  # half of Shopify's 128 KB for a json value, at worst


def test_each_change_a_shopper_would_see_refreshes_the_list(shop, devstore, products):  # noqa: F811
    mug = products["Trail Mug"]
    maya = _review(shop, mug, display_name="Maya R.")
    sam = _review(shop, mug, display_name="Sam K.", photos=[_photo()])
    product_metafields_sync(shop.pk)
    assert [r["author"] for r in _featured(devstore)["reviews"]] == ["Sam K.", "Maya R."]

    review_photo_hide(photo=sam.photos.get(), hidden=True, actor="staff 1")
    product_metafields_sync(shop.pk)
    assert _featured(devstore)["reviews"][0]["photo"] is None

    review_update(review=sam, rating=2, title="Changed my mind", body=sam.body, display_name="Sam K.")
    product_metafields_sync(shop.pk)
    assert [r["author"] for r in _featured(devstore)["reviews"]] == ["Maya R."]  # two stars now

    review_reject(review=maya, reason="spam", actor="staff 1")
    product_metafields_sync(shop.pk)
    assert _featured(devstore) is None  # nothing left to feature: the metafield is gone, the block shows nothing


def test_a_redacted_customers_review_leaves_the_carousel_at_once(shop, devstore, products):  # noqa: F811
    from shopapp.registry import CustomerRef, customer_data_redact

    mug = products["Trail Mug"]
    maya = Customer.objects.create(shop=shop, shopify_id=777, first_name="Maya", last_name="Rossi",
                                   email="maya@example.com")
    _review(shop, mug, display_name="Liam", body="Solid handle, no drips.")
    _review(shop, mug, display_name="Maya Rossi", customer=maya, body="My favourite mug for the trail.")
    product_metafields_sync(shop.pk)
    assert "Maya Rossi" in json.dumps(_featured(devstore), ensure_ascii=False)
    customer_data_redact(shop, CustomerRef(shopify_id="777", email="maya@example.com", phone=""))
    product_metafields_sync(shop.pk)
    featured = json.dumps(_featured(devstore), ensure_ascii=False)
    assert "Maya" not in featured and "favourite mug" not in featured and "Liam" in featured
    # The product's own reviews keep her words, signed Anonymous, as redaction promises.
    assert "favourite mug" in json.dumps(_in_shopify(devstore, mug, "$app", "reviews"), ensure_ascii=False)


def test_a_write_without_a_definite_answer_backs_off_and_the_sweep_drives_it_again(shop, devstore, products,  # noqa: F811
                                                                                   monkeypatch):
    _review(shop, products["Trail Mug"], display_name="Maya R.")
    devstore.fault(DEMO, "metafieldsSet", "fail_after", times=2)  # the products' call, then the shop's
    product_metafields_sync(shop.pk)
    row = FeaturedReviews.objects.get(shop=shop)
    assert row.synced_version < row.version and row.sync_error.startswith("no answer") and row.sync_next_at
    later = timezone.now() + timedelta(hours=1)
    queued = []
    monkeypatch.setattr(metafields, "enqueue", lambda func, *args: queued.append(args))
    assert metafields_sweep(now=later) == 1 and queued == [(shop.pk,)]
    product_metafields_sync(shop.pk, now=later)  # the same value again: metafieldsSet is a set, harmless
    assert [r["author"] for r in _featured(devstore)["reviews"]] == ["Maya R."]
    row.refresh_from_db()
    assert row.synced_version == row.version and row.sync_error == ""


def test_a_review_published_during_the_write_leaves_the_list_due(shop, devstore, products, monkeypatch):  # noqa: F811
    mug = products["Trail Mug"]
    _review(shop, mug, display_name="Maya R.")
    real = metafields.featured_value
    late = []

    def while_writing(shop_, reviews):
        if not late:  # another worker publishes a review after this one read the list
            late.append(_review(shop, mug, display_name="Late L."))
        return real(shop_, reviews)

    monkeypatch.setattr(metafields, "featured_value", while_writing)
    product_metafields_sync(shop.pk)
    row = FeaturedReviews.objects.get(shop=shop)
    assert row.synced_version < row.version
    monkeypatch.setattr(metafields, "featured_value", real)
    product_metafields_sync(shop.pk)
    assert [r["author"] for r in _featured(devstore)["reviews"]] == ["Late L.", "Maya R."]


def test_a_reinstall_writes_the_featured_reviews_again(shop, devstore, products):  # noqa: F811
    from reviews.metafields import metafields_reconnected

    _review(shop, products["Trail Mug"], display_name="Maya R.")
    product_metafields_sync(shop.pk)
    metafields_reconnected(shop, reinstalled=True)
    row = FeaturedReviews.objects.get(shop=shop)
    assert row.synced_version == 0 < row.version
