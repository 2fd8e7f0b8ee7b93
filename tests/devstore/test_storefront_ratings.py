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


def test_the_theme_editor_places_the_carousel_in_a_new_apps_section_of_the_home_page(running):
    domain, shop = DOMAIN, running.store.shop(DOMAIN)
    editor = (f"{running.url}/shops/{domain}/admin/themes/current/editor?template=index"
              f"&addAppBlockId=key/reviews-carousel&target=newAppsSection")
    assert "Reviews carousel" in httpx.get(editor).text  # the schema's name, read from its locale file
    saved = httpx.post(editor)
    assert saved.status_code == 303 and saved.headers["location"] == f"/shops/{domain}/"
    index = json.loads(shop["theme"]["files"]["templates/index.json"])
    apps = index["sections"][index["order"][-1]]
    assert apps["type"] == "apps" and len(apps["block_order"]) == 1
    assert theme.app_blocks(shop["theme"], "templates/index.json") == [
        ("reviews-carousel", {"count": 8, "min_rating": "4", "star_color": "#b26b00", "show_photos": True})]
    assert theme.app_blocks(shop["theme"]) == []  # nothing on the product page
    home = httpx.get(f"{running.url}/shops/{domain}/").text
    assert "data-advocate-carousel" not in home  # no featured reviews yet: shoppers see nothing

    value = {"v": 1, "average": 4.5, "count": 2, "reviews": [
        {"id": 1, "rating": 5, "title": "Warm <b>all</b> day", "body": "Coffee still hot at the top.", "author": "Maya",
         "verified": True, "imported_verified": False, "incentivized": False, "date": "2026-11-02",
         "product_id": 1, "product_title": "Trail Mug", "handle": "trail-mug", "photo": None}]}
    stored(shop)[gid("Shop", shop["id"])] = {"app.featured_reviews": {
        "namespace": resolve_namespace(running.store, "$app"), "key": "featured_reviews", "type": "json",
        "value": json.dumps(value)}}
    home = httpx.get(f"{running.url}/shops/{domain}/").text
    assert "Warm &lt;b&gt;all&lt;/b&gt; day" in home and "4.5 out of 5 · 2 reviews" in home
    assert f'href="/shops/{domain}/products/trail-mug">Trail Mug</a>' in home  # the live product, from all_products
    assert f'<script src="/shops/{domain}/cdn/advocate/advocate-carousel.js" defer>' in home  # in the body, after it
