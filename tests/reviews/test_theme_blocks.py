"""The theme app extension's blocks rendered by a Liquid engine from the metafields Advocate writes."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from devstore import theme
from reviews.metafields import reviews_value
from reviews.models import ProductRating
from reviews.photos import CleanPhoto
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
    assert "4.5 (1 review)" in text and "data-src" not in html  # what shoppers see
    assert '<span class="advocate-vh">4.5 out of 5 stars, 1 review</span>' in html  # what a screen reader says


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


def _carousel(data: dict | None, context: dict | None = None, **settings) -> str:
    """The reviews carousel on the home page, from the shop's `$app.featured_reviews`, Trail Mug in all_products,
    with the block's default settings but those given."""
    metafields = {"$app": {"featured_reviews": {"value": data}}} if data else {}
    defaults = {s["id"]: s["default"] for s in theme.block_schema("reviews-carousel")["settings"] if "default" in s}
    return render("reviews-carousel.liquid", shop={"name": "Owner & Co", "url": "https://owner.example",
                                                   "metafields": metafields},
                  block={"id": "b1", "settings": {**defaults, **settings}}, all_products={"trail-mug": product()},
                  **(context or {}))


def _featured_data(shop) -> dict:
    from reviews.metafields import featured_reviews, featured_value

    return json.loads(featured_value(shop, featured_reviews(shop)))


@pytest.mark.django_db
def test_the_carousel_shows_the_featured_reviews_escaped_each_card_linking_to_its_product(shop):
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, title="Lovely <b>mug</b>",
                  body="Keeps tea hot.\n<script>alert(1)</script>", display_name="Maya <R.>",
                  photos=[CleanPhoto(data=b"jpeg", width=40, height=30)])
    review_create(shop=shop, product_id=43, product_title="Camp <Blanket>", rating=4, body="Warm enough.",
                  display_name="Sam")
    ProductRating.objects.filter(shop=shop, product_id=42).update(handle="trail-mug")
    html = _carousel(_featured_data(shop))
    text, tags = text_of(html)
    assert "What our customers say" in text and "4.5 out of 5 · 2 reviews" in text
    assert "Lovely <b>mug</b>" in text and "Maya <R.>" in text and "<script>alert(1)</script>" in text
    assert "b" not in tags and tags.count("script") == 1  # shopper text is text; the one script is the buttons'
    cards = re.findall(r'<a class="advocate-card-link" href="([^"]+)">([^<]+)</a>', html)
    # The live product (all_products) where the handle finds it; the proxy's reviews page where none is known.
    assert cards == [("/apps/advocate/reviews/43", "Camp &lt;Blanket&gt;"),
                     ("/shops/owner.myshopify.com/products/trail-mug", "Trail &lt;Mug&gt;")]
    assert text.count("5 out of 5 stars") == 1 and "★★★★☆" in text
    assert re.search(r'<img class="advocate-card-photo" src="/apps/advocate/reviews/photos/\d+\.jpg" alt="Photo from the review" '
                     r'width="72" height="72" loading="lazy">', html)
    assert '<a href="/apps/advocate/reviews">See all reviews</a>' in html
    assert 'aria-label="Next reviews" disabled' in html and 'aria-controls="AdvocateCarouselList-b1"' in html
    assert "translation missing" not in html


@pytest.mark.django_db
def test_the_carousel_follows_the_merchants_settings(shop):
    for n, rating in enumerate([5, 4, 5, 5, 4, 5]):
        review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=rating, body=f"Review {n} of the mug.",
                      display_name=f"Shopper {n}", photos=[CleanPhoto(data=b"jpeg", width=4, height=3)] if n == 5 else ())
    data = _featured_data(shop)
    html = _carousel(data, count=3, min_rating="5", show_photos=False, heading="Loved <by> you",
                     star_color="#1f5fbf")
    text, _ = text_of(html)
    assert re.findall(r"Shopper \d", text) == ["Shopper 5", "Shopper 3", "Shopper 2"]  # five stars, newest, three
    assert "advocate-card-photo" not in html and "Loved <by> you" in text
    assert 'style="--advocate-star: #1f5fbf"' in html


def test_an_empty_carousel_shows_shoppers_nothing_and_the_theme_editor_a_hint():
    assert _carousel(None).strip() == ""
    four_only = {"v": 1, "average": 4.0, "count": 1, "reviews": [
        {"id": 1, "rating": 4, "title": "", "body": "Good.", "author": "Maya", "verified": True, "imported_verified": False,
         "incentivized": False, "date": "2026-11-02", "product_id": 42, "product_title": "Trail Mug",
         "handle": "trail-mug", "photo": None}]}
    assert _carousel(four_only, min_rating="5").strip() == ""
    assert "Verified buyer" in _carousel(four_only)
    hint = render("reviews-carousel.liquid", request={"design_mode": True}, block={"id": "b1", "settings": {}})
    assert "Reviews carousel: your newest reviews" in text_of(hint)[0]


@pytest.mark.django_db
def test_the_carousels_links_keep_one_slash_under_a_locale_root(shop):
    review_create(shop=shop, product_id=43, product_title="Camp Blanket", rating=5, body="Warm enough.",
                  display_name="Sam", photos=[CleanPhoto(data=b"jpeg", width=4, height=3)])
    data = _featured_data(shop)
    for root, prefix in (("/", "/apps/advocate/"), ("/fr", "/fr/apps/advocate/")):
        html = _carousel(data, {"routes": {"root_url": root}})
        addresses = re.findall(r'(?:href|src)="([^"]+)"', html)
        assert len(addresses) == 5 and all(a.startswith(prefix) for a in addresses if "/cdn/" not in a), addresses
