"""devstore's storefront in the shop's languages, as Shopify serves them: the primary one at the root,
each other published one under its prefix (/ko/...), with Liquid's request.locale and the `t` filter
reading that language's locale file (falling back to English key by key)."""
from __future__ import annotations

import json
import re
import shutil

import httpx
import pytest

from devstore import theme
from devstore.metafields import resolve_namespace, stored
from devstore.state import gid
from tests.devstore.test_storefront_ratings import DOMAIN, running  # noqa: F401  (fixture)
from tests.reviews.test_theme_blocks import markup_of


@pytest.fixture
def mug(running):  # noqa: F811
    """Trail Mug on a shop in English, Korean and Japanese, its page with both blocks and one review."""
    shop = running.store.shop(DOMAIN)
    shop["locales"] = ["en", "ko", "ja"]
    for handle in ("star-badge", "reviews"):
        theme.add_block(shop["theme"], handle)
    product = running.store.product(DOMAIN, "trail-mug")
    value = {"v": 1, "average": 4.0, "count": 1, "histogram": {"4": 1}, "verification": "Checked.", "write": False,
             "incentives": False, "more": False,
             "reviews": [{"id": 1, "author": "민지", "date": "2026-11-02", "rating": 4, "title": "좋아요", "body": "",
                          "photos": [], "reply": None}]}
    stored(shop)[gid("Product", product["id"])] = {
        "app.reviews": {"namespace": resolve_namespace(running.store, "$app"), "key": "reviews", "type": "json",
                        "value": json.dumps(value)},
        "reviews.rating": {"namespace": "reviews", "key": "rating", "type": "rating",
                           "value": json.dumps({"value": "4.00", "scale_min": "1.0", "scale_max": "5.0"})},
        "reviews.rating_count": {"namespace": "reviews", "key": "rating_count", "type": "number_integer", "value": "1"},
    }
    return running


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|action|data-src)="(/shops/[^"]+)"', html)


def test_a_product_page_under_a_languages_prefix_is_in_that_language_and_stays_there(mug):
    page = httpx.get(f"{mug.url}/shops/{DOMAIN}/ko/products/trail-mug").text
    assert page.startswith('<!doctype html><html lang="ko">')
    assert "고객 리뷰" in page and "5점 만점에 <strong>4.0</strong>점 · 리뷰 1개" in page and "(리뷰 1개)" in page
    links = _links(page)
    kept = [link for link in links if not re.match(rf"/shops/{DOMAIN}/(cdn|images|brand|admin)/", link)]
    languages = re.search(r"<nav class=languages.*?</nav>", page).group(0)
    # Everything devstore and the blocks link to stays in Korean, but the list that offers the other languages.
    assert [link for link in kept if not link.startswith(f"/shops/{DOMAIN}/ko/") and link not in languages] == []
    assert f'/shops/{DOMAIN}/ko/apps/advocate/reviews/' in page and "?locale=ko" in page
    # The product's url is the Korean one, the theme's Product and the block's still one entity.
    themes, ours = markup_of(page)
    assert themes["@id"] == ours["@id"] == f"/shops/{DOMAIN}/ko/products/trail-mug#product"
    # The header lists the shop's languages, each linking to this page in it, the current one marked.
    assert re.findall(r'<a href="([^"]+)" hreflang="(\w+)" lang="\w+"( aria-current=true)?>([^<]+)</a>', languages) == [
        (f"/shops/{DOMAIN}/products/trail-mug", "en", "", "English"),
        (f"/shops/{DOMAIN}/ko/products/trail-mug", "ko", " aria-current=true", "한국어"),
        (f"/shops/{DOMAIN}/ja/products/trail-mug", "ja", "", "日本語")]


def test_the_primary_language_is_at_the_root_and_an_unpublished_prefix_is_not_a_page(mug):
    page = httpx.get(f"{mug.url}/shops/{DOMAIN}/products/trail-mug").text
    assert '<html lang="en">' in page and "Customer reviews" in page and "?locale=en" in page
    outside_the_list = re.sub(r"<nav class=languages.*?</nav>", "", page)
    assert "/ko/" not in outside_the_list and "/ja/" not in outside_the_list
    japanese = httpx.get(f"{mug.url}/shops/{DOMAIN}/ja/products/trail-mug").text
    assert "カスタマーレビュー" in japanese and "5点中<strong>4.0</strong>点 · レビュー1件" in japanese
    assert httpx.get(f"{mug.url}/shops/{DOMAIN}/fr/products/trail-mug").status_code == 404  # not published


def test_redirects_and_forms_keep_the_language(mug):
    product = mug.store.product(DOMAIN, "trail-mug")
    added = httpx.post(f"{mug.url}/shops/{DOMAIN}/ja/cart", data={"product": product["handle"]})
    assert added.status_code == 303 and added.headers["location"] == f"/shops/{DOMAIN}/ja/cart"
    cart = httpx.get(f"{mug.url}/shops/{DOMAIN}/ja/cart", cookies=added.cookies).text
    assert f'action="/shops/{DOMAIN}/ja/checkout"' in cart and '<html lang="ja">' in cart
    home = httpx.get(f"{mug.url}/shops/{DOMAIN}/ko").text
    assert f'href="/shops/{DOMAIN}/ko/products/trail-mug"' in home
    assert f'src="/shops/{DOMAIN}/images/trail-mug.svg"' in home  # images have no language


def test_a_shop_with_one_language_shows_no_language_list(running):  # noqa: F811
    running.store.shop(DOMAIN)["locales"] = ["en"]
    page = httpx.get(f"{running.url}/shops/{DOMAIN}/").text
    assert "class=languages" not in page and "<!--languages-->" not in page


# --- the `t` filter --------------------------------------------------------------------------------

def test_t_picks_the_languages_plural_form_and_its_regional_file():
    assert theme.translate("reviews.count", "en", count=1) == "1 review"
    assert theme.translate("reviews.count", "ko", count=1) == "리뷰 1개"  # one form in Korean
    assert theme.translate("reviews.stars", "fr", count=0) == "0 étoile"  # French counts 0 as one
    assert theme.translate("reviews.count", "es", count=2_000_000) == "2000000 reseñas"  # many
    assert theme.translate("reviews.read", "ko-KR", product="<Mug>") == "&lt;Mug&gt; 리뷰 보기"  # escaped
    assert theme.translate("nothing.here", "ja") == "translation missing: ja.nothing.here"


def test_t_falls_back_to_english_key_by_key(tmp_path, monkeypatch):
    copy = tmp_path / "advocate-theme"
    shutil.copytree(theme.EXTENSION_DIR, copy)
    korean = json.loads((copy / "locales" / "ko.json").read_text())
    del korean["reviews"]["empty"]
    (copy / "locales" / "ko.json").write_text(json.dumps(korean, ensure_ascii=False))
    monkeypatch.setattr(theme, "EXTENSION_DIR", copy)
    assert theme.translate("reviews.empty", "ko") == "No reviews yet."
    assert theme.translate("reviews.write", "ko") == "리뷰 쓰기"
    assert theme.translate("reviews.write", "pt-BR") == "Write a review"  # a language the extension lacks
