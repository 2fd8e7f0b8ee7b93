"""Every link the theme app extension renders resolves: the star badge, the reviews block (from the
app proxy and from the metafields), the fragments they load and the links inside those, the
photos, and the referral launcher, followed through devstore's storefront and app proxy to the
live server as a shopper's browser would."""
from __future__ import annotations

import io
import re
from html import unescape

import httpx
import pytest
from django.conf import settings
from PIL import Image

from tests.reviews.test_metafields import _words

pytestmark = [pytest.mark.django_db(transaction=True)]
DEMO = "demo-outfitters.myshopify.com"
# Addresses in Advocate's markup: links, images, the widgets' data-src, the extension's assets.
_ADDRESS = re.compile(r'(?:href|src|data-src)="([^"]*(?:/apps/advocate|/cdn/advocate/)[^"]*)"')


@pytest.fixture
def storefront(live_server, tmp_path):
    """devstore pointed at the live server; Trail Mug with the badge, the reviews block and the
    referral launcher placed, three reviews (one with a photo, one with a reply)."""
    from devstore import theme
    from devstore.server import start
    from reviews.models import ReviewSettings
    from reviews.photos import CleanPhoto
    from reviews.services import review_create, review_reply
    from tests.conftest import _make_shop

    store = start(port=0, app_url=live_server.url, api_key=settings.SHOPIFY_API_KEY,
                  api_secret=settings.SHOPIFY_API_SECRET, data_dir=str(tmp_path), smtp_port=None)
    store.seed()
    for handle in ("star-badge", "reviews", "referral-embed"):
        theme.add_block(store.store.shop(DEMO)["theme"], handle)
    product = store.store.product(DEMO, "trail-mug")
    shop = _make_shop(DEMO)
    ReviewSettings.objects.update_or_create(shop=shop, defaults={"non_buyer_reviews": True})  # "Write a review"
    for n in range(11):  # a second page, older than the two below
        review_create(shop=shop, product_id=product["id"], product_title="Trail Mug", rating=4,
                      body=f"Good mug for {_words(n)}.",
                      display_name=f"Shopper {n}")
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(jpeg, "JPEG")
    review_create(shop=shop, product_id=product["id"], product_title="Trail Mug", rating=5, title="Sturdy",
                  body="Survived the whole trail.", display_name="Maya",
                  photos=[CleanPhoto(data=jpeg.getvalue(), width=40, height=30)])
    replied = review_create(shop=shop, product_id=product["id"], product_title="Trail Mug", rating=2,
                            body="Handle gets hot.", display_name="Sam")
    review_reply(review=replied, text="We're sending a sleeve.", actor="owner")
    yield store, shop, product
    store.stop()


def _walk(client: httpx.Client, page_url: str) -> dict[str, int]:
    """Every Advocate address on the page and, one level down, in what the widgets load: status."""
    seen: dict[str, int] = {}
    page = client.get(page_url)
    assert page.status_code == 200
    todo = [(address, True) for address in _ADDRESS.findall(page.text)]
    while todo:
        address, from_page = todo.pop()
        address = unescape(address)
        if address in seen:
            continue
        response = client.get(address)
        seen[address] = response.status_code
        if from_page and 'data-src="' + address + '"' in page.text.replace("&amp;", "&"):
            fragment = client.get(address + ("&" if "?" in address else "?") + "view=fragment")  # what advocate.js asks
            seen[address + " (fragment)"] = fragment.status_code
            todo += [(a, False) for a in _ADDRESS.findall(fragment.text)]
        if from_page and "data-advocate-nav" in page.text:
            todo += [(a, False) for a in _ADDRESS.findall(response.text)]
    return seen


def test_every_link_of_the_blocks_resolves_before_and_after_the_metafields(storefront):
    from tests.reviews.test_theme_blocks import metafields_written

    store, shop, product = storefront
    base = store.url
    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
        url = f"/shops/{DEMO}/products/trail-mug"
        before = _walk(client, url)
        # Shopify's copy as the sync writes it, then the page rendered from it.
        metafields_written(store.store, shop, product["id"])
        page = client.get(url).text
        assert "data-advocate-rendered" in page and "Reply from" in page
        after = _walk(client, url)
    broken = {address: status for address, status in {**before, **after}.items() if status != 200}
    assert broken == {}
    walked = " ".join(after)
    # The walk reached what matters: the launcher, assets, sorting, the second page, a photo, writing.
    for part in ("/apps/advocate/referrals/", "/cdn/advocate/advocate.js", "sort=lowest", "page=2",
                 "/photos/", "/write"):
        assert part in walked, part
    assert "/badge (fragment)" not in " ".join(after)  # from the metafields: nothing loaded for the badge
    assert any(a.split("?")[0].endswith("/badge") for a in before)  # ...where before, it was


def test_the_links_keep_one_slash_under_a_locale_root():
    """Shopify's routes.root_url is "/" on the primary locale and "/fr" (no slash) on another."""
    from devstore import theme
    from tests.reviews.test_theme_blocks import product

    for root, prefix in (("/", "/apps/advocate/"), ("/fr", "/fr/apps/advocate/")):
        context = {"routes": {"root_url": root}, "shop": {"name": "Owner", "url": "https://owner.example"},
                   "asset_root": "/cdn/advocate/",
                   "cart": {"currency": {"iso_code": "EUR"}}, "product": product()}
        for handle in ("reviews", "star-badge", "referral-embed"):
            settings_ = {"heading": "Reviews", "label": "Refer a friend"}
            html, _schema = theme.render_block(handle, {**context, "block": {"settings": settings_}})
            addresses = [a for a in re.findall(r'(?:href|data-src)="([^"]+)"', html) if "/cdn/" not in a]
            assert addresses and all(a.startswith(prefix) for a in addresses), (handle, root, addresses)


def test_every_link_of_the_home_pages_carousel_resolves(storefront):
    """The carousel from the shop's featured reviews as the sync writes them: the cards' product pages
    (the proxy's reviews page where Advocate has no handle yet), a review photo, All reviews, the script."""
    import json

    from devstore import theme
    from devstore.metafields import resolve_namespace, stored
    from devstore.state import gid
    from reviews.metafields import FEATURED_KEY, featured_reviews, featured_value

    store, shop, product = storefront
    theme.add_block(store.store.shop(DEMO)["theme"], "reviews-carousel", "index", "newAppsSection")
    data = json.loads(featured_value(shop, featured_reviews(shop)))
    data["reviews"][1]["handle"] = "trail-mug"  # one read from Shopify, the others not yet
    devstore_shop = store.store.shop(DEMO)
    stored(devstore_shop)[gid("Shop", devstore_shop["id"])] = {f"app.{FEATURED_KEY}": {
        "namespace": resolve_namespace(store.store, "$app"), "key": FEATURED_KEY, "type": "json",
        "value": json.dumps(data)}}
    with httpx.Client(base_url=store.url, follow_redirects=True, timeout=10) as client:
        page = client.get(f"/shops/{DEMO}/").text
        addresses = {unescape(a) for a in re.findall(r'(?:href|src)="(/shops/[^"]+)"', page)
                     if "/apps/advocate/" in a or "/cdn/advocate/" in a or "/products/" in a}
        statuses = {address: client.get(address).status_code for address in sorted(addresses)}
    assert {a: s for a, s in statuses.items() if s != 200} == {}
    walked = " ".join(statuses)
    for part in (f"/apps/advocate/reviews/{product['id']}", "/products/trail-mug", "/photos/",
                 f"/shops/{DEMO}/apps/advocate/reviews", "/cdn/advocate/advocate-carousel.js"):
        assert part in walked, part
