"""devstore's product grid draws stars from the standard rating metafields, as Dawn's cards do."""
from __future__ import annotations

import json

import httpx

from devstore.metafields import liquid_metafields, resolve_namespace, stored
from devstore.state import gid


def test_cards_show_stars_only_for_products_with_a_rating(tmp_path):
    from devstore.server import start

    running = start(app_url="http://127.0.0.1:9", api_key="key", api_secret="secret", smtp_port=None,
                    data_dir=str(tmp_path))
    try:
        running.seed()
        domain = "demo-outfitters.myshopify.com"
        shop = running.store.shop(domain)
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
    finally:
        running.stop()
