"""The theme app extension's blocks rendered by a Liquid engine from the metafields Advocate writes."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from liquid import Environment

from reviews.metafields import reviews_value
from reviews.models import ProductRating
from reviews.services import review_create

BLOCKS = Path(__file__).resolve().parents[2] / "extensions" / "advocate-theme" / "blocks"


def render(block: str, **context) -> str:
    source = (BLOCKS / block).read_text()
    source = re.sub(r"{%\s*schema\s*%}.*?{%\s*endschema\s*%}", "", source, flags=re.S)  # Shopify's own tag
    return Environment().from_string(source).render(
        routes={"root_url": "/"}, block={"settings": {"heading": "Customer reviews"}}, shop={"name": "Owner & Co"},
        **context)


def product(metafields: dict | None = None) -> dict:
    return {"id": 42, "title": "Trail <Mug>", "metafields": metafields or {}}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.tags = [], []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def text_of(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.tags


@pytest.mark.django_db
def test_the_reviews_block_renders_the_first_page_from_the_app_metafield(shop):
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, title="Lovely <b>mug</b>",
                  body="Keeps tea hot.\n<script>alert(1)</script>", display_name="Maya <R.>")
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=3, body="Handle gets warm sadly.",
                  display_name="Sam")
    data = json.loads(reviews_value(shop, ProductRating.objects.get(shop=shop, product_id=42)))
    html = render("reviews.liquid", product=product({"$app": {"reviews": {"value": data}}}))
    text, tags = text_of(html)
    assert "4.0 out of 5 · 2 reviews" in text
    assert "Lovely <b>mug</b>" in text and "Maya <R.>" in text  # shopper text shown as text...
    assert "script" not in tags and "b" not in tags  # ...never as markup
    assert "Handle gets warm sadly." in text and "advocate-verified" not in html  # no order line: not verified
    assert "data-advocate-rendered" in html  # advocate.js leaves it alone until the shopper asks for more
    assert text.count("★★★★★") == 1 and "★★★☆☆" in text
    assert "Reply from" not in text  # no reply (null in the metafield) shows no reply box


def test_without_the_metafield_the_block_falls_back_to_the_app_proxy():
    html = render("reviews.liquid", product=product())
    assert 'data-src="/apps/advocate/reviews/42"' in html and "data-advocate-rendered" not in html
    text, tags = text_of(html)
    assert "Read the reviews of Trail <Mug>" in text and "mug" not in tags


def test_the_star_badge_reads_shopifys_standard_metafields():
    html = render("star-badge.liquid", product=product({"reviews": {
        "rating": {"value": {"rating": 4.5, "scale_min": 1, "scale_max": 5}}, "rating_count": {"value": 1}}}))
    text, _ = text_of(html)
    assert "4.5 out of 5 stars, (1 review)" in text and "data-src" not in html


def test_the_star_badge_without_metafields_loads_from_the_proxy():
    html = render("star-badge.liquid", product=product())
    assert 'data-src="/apps/advocate/reviews/42/badge"' in html
