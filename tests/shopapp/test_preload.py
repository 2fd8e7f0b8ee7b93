"""The panel's Link header preloads what the page loads, from where it loads it."""
from __future__ import annotations

import re

import pytest

from reviews.models import ReviewPhoto
from reviews.services import review_create

pytestmark = pytest.mark.django_db
CDN = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
DEMO = "http://127.0.0.1:8001/app-bridge.js"
PATCH = "/auth/patch-id-token?shop=owner-shop.myshopify.com&shopify-reload=%2F%3Fshop%3Downer-shop.myshopify.com"


def _preloaded(response) -> list[str]:
    return re.findall(r'<([^>]+)>; rel="preload"', response.get("Link", ""))


def _script_sources(response) -> list[str]:
    return [src for src in re.findall(r'<script src="([^"]+)"', response.content.decode()) if src.startswith("http")]


def test_a_panel_page_preloads_app_bridge_from_the_cdn_and_nothing_it_does_not_load(panel_get, shop):
    response = panel_get("/app/reviews/", shop)
    assert _preloaded(response) == [CDN] == _script_sources(response)
    assert "polaris" not in response["Link"]
    assert '<https://cdn.shopify.com>; rel="preconnect"' in response["Link"]


def test_the_demo_preloads_app_bridge_from_where_it_loads_it(panel_get, shop, settings, client):
    settings.APP_BRIDGE_URL = DEMO
    response = panel_get("/app/reviews/", shop)
    assert _preloaded(response) == [DEMO] == _script_sources(response)
    assert "cdn.shopify.com" not in response["Link"]
    bounce = client.get(PATCH)
    assert bounce.status_code == 200 and DEMO.encode() in bounce.content
    assert _preloaded(bounce) == [DEMO] and "cdn.shopify.com" not in bounce["Link"]


def test_a_photo_or_a_download_preloads_nothing(panel_get, shop):
    review = review_create(shop=shop, product_id=1, product_title="Mug", rating=5)
    photo = ReviewPhoto.objects.create(review=review, content_type="image/jpeg", image=b"x")
    assert "Link" not in panel_get(f"/app/reviews/photos/{photo.pk}.jpg", shop)
    assert "Link" not in panel_get("/app/reviews/export.csv", shop)
