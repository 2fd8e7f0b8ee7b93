"""devstore's storefront as a Dawn-like theme: the product grid draws stars from the standard rating
metafields, and the product page writes its own Product JSON-LD, which Advocate's block joins."""
from __future__ import annotations

import json

import httpx
import pytest

from devstore import theme

from devstore.metafields import liquid_metafields, resolve_namespace, stored
from devstore.state import gid
from tests.reviews.test_theme_blocks import markup_of


DOMAIN = "demo-outfitters.myshopify.com"


@pytest.fixture
def running(tmp_path):
    from devstore.server import start

    store = start(app_url="http://127.0.0.1:9", api_key="key", api_secret="secret", smtp_port=None,
                  data_dir=str(tmp_path))
    store.seed()
    yield store
    store.stop()


def test_cards_show_stars_only_for_products_with_a_rating(running):
    domain, shop = DOMAIN, running.store.shop(DOMAIN)
    mug = next(p for p in shop["products"].values() if p["title"] == "Trail Mug")
    stored(shop)[gid("Product", mug["id"])] = {
        "reviews.rating": {"namespace": "reviews", "key": "rating", "type": "rating",
                           "value": json.dumps({"value": "4.50", "scale_min": "1.0", "scale_max": "5.0"})},
        "reviews.rating_count": {"namespace": "reviews", "key": "rating_count", "type": "number_integer",
                                 "value": "2"},
    }
    page = httpx.get(f"{running.url}/shops/{domain}/").text
    assert page.count("class=card-rating") == 1
    assert 'aria-label="4.5 out of 5.0 stars, 2 total reviews"' in page and "★★★★★" in page
    assert liquid_metafields(running.store, domain, mug["id"])["reviews"]["rating"]["value"]["rating"] == 4.5
    assert resolve_namespace(running.store, "$app:x").endswith("--x")


def test_the_product_page_holds_one_product_whether_or_not_the_theme_describes_it(running):
    domain, shop = DOMAIN, running.store.shop(DOMAIN)
    theme.add_block(shop["theme"], "reviews")
    mug = next(p for p in shop["products"].values() if p["title"] == "Trail Mug")
    value = {"v": 1, "average": 4.0, "count": 1, "histogram": {"4": 1}, "verification": "", "write": False,
             "more": False, "reviews": [{"id": 1, "author": "Maya", "date": "2026-11-02", "rating": 4,
                                         "title": "Good", "body": "", "photos": [], "reply": None}]}
    stored(shop)[gid("Product", mug["id"])] = {"app.reviews": {
        "namespace": resolve_namespace(running.store, "$app"), "key": "reviews", "type": "json",
        "value": json.dumps(value)}}
    url = f"{running.url}/shops/{domain}/products/{mug['handle']}"

    themes, ours = markup_of(httpx.get(url).text)  # the theme's own first, as in Dawn's main-product
    assert themes["@type"] == ours["@type"] == "Product" and themes["@id"] == ours["@id"]  # one entity
    assert themes["@id"] == f"/shops/{domain}/products/{mug['handle']}#product"
    assert "aggregateRating" not in themes and ours["aggregateRating"]["reviewCount"] == 1
    assert ours["offers"]["@id"] == themes["offers"]["@id"] and ours["url"] == themes["url"]

    shop["theme"]["product_markup"] = False  # a theme that describes nothing
    [alone] = markup_of(httpx.get(url).text)
    assert {"name", "url", "image", "offers", "aggregateRating", "review"} <= set(alone)
