"""Shopify's copy of the storefront: product metafields written by the sync, checked in devstore."""
from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews import metafields
from reviews.metafields import metafields_sweep, product_metafields_sync, reviews_value
from reviews.models import ProductRating, Review
from reviews.services import review_create, review_reject, review_reply
from shopapp.models import Customer, Shop
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db
SCOPES = "read_orders,read_customers,read_products,write_products,write_discounts"


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore, SCOPES)


@pytest.fixture
def products(devstore):  # noqa: F811
    """devstore's Demo Outfitters products: title -> id."""
    return {p["title"]: p["id"] for p in devstore.store.shop(DEMO)["products"].values()}


_bodies = itertools.count(1)
_WORDS = ("amber basil cedar delta ember fjord grove harbor indigo juniper kestrel linden maple nectar olive "
          "pepper quartz russet sage tundra umber violet willow yarrow zephyr").split()


def _words(n: int) -> str:
    """Distinct words for each review: moderation holds bodies that repeat another review's."""
    return f"{_WORDS[n % 25]} {_WORDS[(n // 25) % 25]}"


def _review(shop, product_id, rating=5, **extra):
    fields = dict(product_title="Trail Mug", rating=rating, title="Lovely", display_name="Maya R.",
                  body=f"A sturdy mug, keeps tea hot: {_words(next(_bodies))}.")
    fields.update(extra)
    review = review_create(shop=shop, product_id=product_id, **fields)
    assert review.status == Review.Status.PUBLISHED
    return review


@pytest.fixture
def direct_writes(monkeypatch):
    """The size of each metafieldsSet call sent for products (outside a bulk operation; the shop's
    featured reviews go in a call of their own)."""
    sent = []
    real = metafields.AdminClient.mutate

    def spy(self, mutation, variables, *, field):
        if field == "metafieldsSet" and "/Product/" in variables["metafields"][0]["ownerId"]:
            sent.append(len(variables["metafields"]))
        return real(self, mutation, variables, field=field)

    monkeypatch.setattr(metafields.AdminClient, "mutate", spy)
    return sent


def _in_shopify(devstore, product_id, namespace, key):  # noqa: F811
    found = metafields_in(devstore, product_id, namespace, key)
    return json.loads(found["value"]) if found and found["type"] in ("json", "rating") else (found or {}).get("value")


def metafields_in(devstore, product_id, namespace, key):  # noqa: F811
    from devstore.metafields import product_metafield

    return product_metafield(devstore.store, DEMO, product_id, namespace, key)


def test_a_published_review_reaches_the_standard_and_app_metafields(shop, devstore, products):  # noqa: F811
    mug = products["Trail Mug"]
    _review(shop, mug, rating=5)
    sam = _review(shop, mug, rating=4, display_name="Sam K.")
    review_reply(review=sam, text="Thank you, Sam!", actor="staff 1")
    assert product_metafields_sync(shop.pk) == 1
    assert _in_shopify(devstore, mug, "reviews", "rating") == {"value": "4.50", "scale_min": "1.0", "scale_max": "5.0"}
    assert _in_shopify(devstore, mug, "reviews", "rating_count") == "2"
    data = _in_shopify(devstore, mug, "$app", "reviews")
    assert (data["average"], data["count"], data["histogram"]["5"], data["histogram"]["4"]) == (4.5, 2, 1, 1)
    assert [r["author"] for r in data["reviews"]] == ["Sam K.", "Maya R."]
    assert data["reviews"][0]["reply"] == "Thank you, Sam!" and data["more"] is False
    # Stored under the app's reserved namespace, the name Liquid resolves `$app` to.
    assert metafields_in(devstore, mug, "$app", "reviews")["namespace"].startswith("app--")
    # The standard definitions were enabled once, and the product is up to date.
    assert set(devstore.store.shop(DEMO)["metafield_definitions"]) == {"PRODUCT:reviews.rating",
                                                                        "PRODUCT:reviews.rating_count"}
    rating = ProductRating.objects.get(shop=shop, product_id=mug)
    assert rating.synced_version == rating.version and rating.sync_error == ""


def test_a_second_run_sends_nothing(shop, devstore, products, monkeypatch):  # noqa: F811
    _review(shop, products["Trail Mug"])
    product_metafields_sync(shop.pk)
    calls = []
    monkeypatch.setattr(metafields.AdminClient, "mutate", lambda *a, **k: calls.append(a))
    assert product_metafields_sync(shop.pk) == 0
    assert calls == []


def test_many_products_go_eight_to_a_call_within_shopifys_25(shop, devstore, direct_writes):  # noqa: F811
    ids = [devstore.store.product_create(DEMO, title=f"Mug {n}", price="10.00")["id"] for n in range(11)]
    for product_id in ids:
        _review(shop, product_id)
    assert product_metafields_sync(shop.pk) == 11
    assert direct_writes == [24, 9]
    assert all(_in_shopify(devstore, p, "reviews", "rating_count") == "1" for p in ids)


def test_devstore_refuses_26_metafields_as_shopify_does(shop, devstore, products):  # noqa: F811
    from shopapp.admin_api import AdminClient
    from shopapp.errors import ShopifyUserError

    inputs = [{"ownerId": f"gid://shopify/Product/{products['Trail Mug']}", "namespace": "$app", "key": f"k{n}",
               "type": "number_integer", "value": "1"} for n in range(26)]
    with pytest.raises(ShopifyUserError) as refused:
        AdminClient(shop).mutate(metafields.METAFIELDS_SET, {"metafields": inputs}, field="metafieldsSet")
    assert "25" in str(refused.value)


def test_a_first_page_too_big_for_shopify_is_shrunk_not_refused(shop, products):
    mug = products["Trail Mug"]
    for n in range(10):
        _review(shop, mug, body=("A long honest review. " * 200) + _words(n), display_name=f"Reviewer {n}")
    rating = ProductRating.objects.get(shop=shop, product_id=mug)
    value = reviews_value(shop, rating, limit=20_000)
    data = json.loads(value)
    assert len(value.encode()) <= 20_000
    assert 0 < len(data["reviews"]) < 10 and data["more"] is True and data["count"] == 10


@pytest.mark.parametrize("fault", ["fail_before", "fail_after", "reset_after"])
def test_a_write_without_a_definite_answer_is_retried_and_ends_equal(shop, devstore, products, fault):  # noqa: F811
    mug = products["Trail Mug"]
    _review(shop, mug)
    product_metafields_sync(shop.pk)  # definitions enabled, first version written
    _review(shop, mug, rating=3, display_name="Sam K.")
    devstore.fault(DEMO, "metafieldsSet", fault, seconds=1.0)
    assert product_metafields_sync(shop.pk) == 0
    rating = ProductRating.objects.get(shop=shop, product_id=mug)
    assert rating.synced_version < rating.version and rating.sync_error and rating.sync_next_at
    # Not before its backoff; then the same values go again (metafieldsSet is a set: harmless).
    assert product_metafields_sync(shop.pk) == 0
    assert product_metafields_sync(shop.pk, now=timezone.now() + timedelta(hours=1)) == 1
    assert _in_shopify(devstore, mug, "reviews", "rating_count") == "2"
    assert _in_shopify(devstore, mug, "$app", "reviews")["count"] == 2


def test_a_review_changed_during_the_write_stays_due_and_lands_next(shop, devstore, products, monkeypatch):  # noqa: F811
    mug = products["Trail Mug"]
    _review(shop, mug)
    real = metafields.product_inputs
    changed = []

    def while_writing(shop_, rating):
        inputs = real(shop_, rating)
        if not changed:  # another worker publishes a review after this one read the product
            changed.append(_review(shop, mug, rating=1, display_name="Late L."))
        return inputs

    monkeypatch.setattr(metafields, "product_inputs", while_writing)
    product_metafields_sync(shop.pk)
    rating = ProductRating.objects.get(shop=shop, product_id=mug)
    assert rating.synced_version < rating.version  # written for the version read: still due
    monkeypatch.setattr(metafields, "product_inputs", real)
    assert product_metafields_sync(shop.pk) == 1
    assert _in_shopify(devstore, mug, "reviews", "rating_count") == "2"


def test_the_last_published_review_rejected_removes_the_metafields(shop, devstore, products):  # noqa: F811
    mug = products["Trail Mug"]
    review = _review(shop, mug)
    product_metafields_sync(shop.pk)
    review_reject(review=review, reason="spam", actor="staff 1")
    assert product_metafields_sync(shop.pk) == 1
    assert metafields_in(devstore, mug, "reviews", "rating") is None
    assert metafields_in(devstore, mug, "$app", "reviews") is None


def test_a_redacted_customers_name_leaves_shopifys_copy_too(shop, devstore, products):  # noqa: F811
    from shopapp.registry import CustomerRef, customer_data_redact

    mug = products["Trail Mug"]
    maya = Customer.objects.create(shop=shop, shopify_id=777, first_name="Maya", last_name="Rossi",
                                   email="maya@example.com")
    _review(shop, mug, display_name="Maya Rossi", customer=maya)
    product_metafields_sync(shop.pk)
    assert "Maya Rossi" in metafields_in(devstore, mug, "$app", "reviews")["value"]
    customer_data_redact(shop, CustomerRef(shopify_id="777", email="maya@example.com", phone=""))
    assert product_metafields_sync(shop.pk) == 1
    assert "Maya" not in metafields_in(devstore, mug, "$app", "reviews")["value"]


def test_nothing_is_sent_for_an_uninstalled_shop_and_a_reinstall_writes_everything(shop, devstore, products,  # noqa: F811
                                                                                  monkeypatch):
    from reviews.metafields import metafields_reconnected

    _review(shop, products["Trail Mug"])
    product_metafields_sync(shop.pk)
    _review(shop, products["Trail Mug"], rating=2)
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    calls = []
    monkeypatch.setattr(metafields.AdminClient, "mutate", lambda *a, **k: calls.append(a))
    assert product_metafields_sync(shop.pk) == 0 and calls == []
    assert metafields_sweep() == 0
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=None)
    metafields_reconnected(Shop.objects.get(pk=shop.pk), reinstalled=True)
    assert ProductRating.objects.get(shop=shop, product_id=products["Trail Mug"]).synced_version == 0


def test_without_write_products_nothing_is_sent_and_the_panel_asks_for_it(shop, products, monkeypatch, panel_get):
    Shop.objects.filter(pk=shop.pk).update(scopes="read_products")
    shop.refresh_from_db()
    _review(shop, products["Trail Mug"])
    calls = []
    monkeypatch.setattr(metafields.AdminClient, "mutate", lambda *a, **k: calls.append(a))
    assert product_metafields_sync(shop.pk) == 0 and calls == []
    page = panel_get("/app/reviews/settings/", shop).content.decode()
    assert "write_products" in page and "approve the update" in page


def test_the_sweep_queues_only_shops_with_due_products(shop, products, monkeypatch):
    other = Shop.objects.create(domain="north-pole-goods.myshopify.com", access_token="t", scopes=SCOPES,
                                installed_at=timezone.now())
    queued = []
    monkeypatch.setattr(metafields, "enqueue", lambda func, *args: queued.append(args))
    _review(shop, products["Trail Mug"])
    queued.clear()  # the review's own after-commit request
    assert metafields_sweep() == 1 and queued == [(shop.pk,)]
    assert not ProductRating.objects.filter(shop=other).exists()


def test_the_merchants_resync_marks_every_product_due(shop, devstore, products, client, make_session_token):  # noqa: F811
    _review(shop, products["Trail Mug"])
    product_metafields_sync(shop.pk)
    response = client.post(f"/app/reviews/settings/?id_token={make_session_token(shop.domain)}",
                           {"action": "resync"})
    assert response.status_code == 200 and "Resync started: 1 product" in response.content.decode()
    rating = ProductRating.objects.get(shop=shop, product_id=products["Trail Mug"])
    assert rating.synced_version == 0 < rating.version
