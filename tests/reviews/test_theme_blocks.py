"""The theme app extension's blocks rendered by a Liquid engine from the metafields Advocate writes."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from devstore import theme
from reviews.metafields import reviews_value
from reviews.models import ProductRating
from reviews.services import review_create

def render(block_file: str, **context) -> str:
    """A block as Shopify renders it: devstore's Liquid environment has Shopify's `json` and `image_url`."""
    html, _schema = theme.render_block(block_file.removesuffix(".liquid"), {
        "routes": {"root_url": "/"}, "block": {"settings": {"heading": "Customer reviews"}},
        "shop": {"name": "Owner & Co", "url": "https://owner.example"}, "cart": {"currency": {"iso_code": "EUR"}},
        "asset_root": "/cdn/advocate/",
        **context})
    return html


def product(metafields: dict | None = None) -> dict:
    return theme.liquid_product({"id": 42, "title": "Trail <Mug>", "handle": "trail-mug", "price": "24.50",
                                 "variant_id": 4201, "status": "ACTIVE", "vendor": "Owner & Co"},
                                "owner.myshopify.com", "https://owner.example", metafields or {})


def metafields_written(store, shop, product_id: int) -> None:
    """Put into devstore the product's metafields as Advocate's sync writes them."""
    from devstore.metafields import resolve_namespace, stored
    from devstore.state import gid
    from reviews.metafields import product_inputs

    rating = ProductRating.objects.get(shop=shop, product_id=product_id)
    written = {}
    for field in product_inputs(shop, rating):
        namespace = resolve_namespace(store, field["namespace"])
        written[f"{namespace}.{field['key']}"] = {**field, "namespace": namespace}
    stored(store.shop(shop.domain))[gid("Product", product_id)] = written


class _Text(HTMLParser):
    """The text a shopper sees and the tags, leaving out what script elements carry (data, not text)."""

    def __init__(self):
        super().__init__()
        self.parts, self.tags, self.scripts, self.kinds, self._in_script = [], [], [], [], False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
            self.kinds.append(dict(attrs).get("type", ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def text_of(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.tags


def markup_of(html: str) -> list[dict]:
    """Every JSON-LD object in a page."""
    parser = _Text()
    parser.feed(html)
    return [json.loads(text) for text, kind in zip(parser.scripts, parser.kinds) if kind == "application/ld+json"]


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
    assert tags.count("script") == 2 and "b" not in tags  # ...never as markup (the scripts: JSON-LD, the loader)
    assert 'addEventListener("load"' in html  # rendered: advocate.js comes after the page has loaded
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


@pytest.mark.django_db
def test_the_reviews_markup_is_one_complete_product_under_the_themes_id(shop):
    """Where the theme writes no Product, the block's is complete; where it does, they share an @id."""
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, title="</script><b>Hot</b>",
                  body="Tea & {{ coffee }}", display_name="Maya")
    data = json.loads(reviews_value(shop, ProductRating.objects.get(shop=shop, product_id=42)))
    item = product({"$app": {"reviews": {"value": data}}})
    html = render("reviews.liquid", product=item)
    [markup] = markup_of(html)
    assert markup["@type"] == "Product" and markup["@id"] == theme.structured_data(item, "", "EUR")["@id"]
    assert markup["name"] == "Trail <Mug>" and markup["url"] == "https://owner.example" + item["url"]
    assert markup["image"].endswith("/images/trail-mug.jpg?width=1200")
    assert markup["offers"] == {"@type": "Offer", "@id": item["url"] + "?variant=4201#offer", "price": 24.5,
                                "priceCurrency": "EUR", "availability": "https://schema.org/InStock"}
    assert markup["aggregateRating"]["ratingValue"] == 5.0 and markup["aggregateRating"]["reviewCount"] == 1
    [review] = markup["review"]
    assert review["name"] == "</script><b>Hot</b>" and review["reviewBody"] == "Tea & {{ coffee }}"
    assert review["author"]["name"] == "Maya" and review["datePublished"] == data["reviews"][0]["date"]
    assert "</script><b>" not in html  # the title is inside a script element, escaped as Shopify's json does

    # Before the metafield exists: still the one complete Product, without a rating yet.
    [bare] = markup_of(render("reviews.liquid", product=product()))
    assert bare["@id"] == markup["@id"] and "offers" in bare and "aggregateRating" not in bare


@pytest.mark.django_db
@pytest.mark.parametrize("who,non_buyers,expected", [
    ("guest", False, None),
    ("guest", True, "/apps/advocate/reviews/42/write"),
    ("customer", False, "/apps/advocate/reviews/42/mine"),
    ("customer", True, "/apps/advocate/reviews/42/mine"),
])
def test_write_a_review_shows_where_the_shopper_can_write_one(shop, who, non_buyers, expected):
    from reviews.models import ReviewSettings

    ReviewSettings.objects.update_or_create(shop=shop, defaults={"non_buyer_reviews": non_buyers})
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, body="Good.")
    data = json.loads(reviews_value(shop, ProductRating.objects.get(shop=shop, product_id=42)))
    customer = {"customer": {"id": 7, "first_name": "Maya"}} if who == "customer" else {}
    html = render("reviews.liquid", product=product({"$app": {"reviews": {"value": data}}}), **customer)
    links = re.findall(r'<a class="advocate-write-button" href="([^"]+)">Write a review</a>', html)
    assert links == ([expected] if expected else [])


@pytest.mark.django_db
def test_star_colour_and_size_are_the_merchants_block_settings(shop):
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=4, body="Good.")
    data = json.loads(reviews_value(shop, ProductRating.objects.get(shop=shop, product_id=42)))
    settings = {"heading": "Reviews", "star_color": "#1f5fbf", "star_size": 24}
    html = render("reviews.liquid", product=product({"$app": {"reviews": {"value": data}}}), block={"settings": settings})
    assert 'style="--advocate-star: #1f5fbf; --advocate-star-size: 24px"' in html
    badge = render("star-badge.liquid", product=product({"reviews": {
        "rating": {"value": {"rating": 4.0, "scale_min": 1, "scale_max": 5}}, "rating_count": {"value": 1}}}),
        block={"settings": {}})
    assert 'style="--advocate-star: #b26b00; --advocate-star-size: 16px"' in badge  # the defaults
    assert "(1 review)" in text_of(badge)[0]
