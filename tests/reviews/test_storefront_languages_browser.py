"""The storefront in Korean and Japanese on a phone, in a real browser: devstore serves the shop's pages
under /ko/ and /ja/ (Liquid's request.locale set), and Advocate's blocks, rendered from the metafields
Advocate's sync wrote into devstore, speak the shopper's language: the star badge, the reviews widget
with its photo lightbox, and the home page's carousel."""
from __future__ import annotations

import re

import pytest

from tests.browser import accessibility_violations, artifacts_dir, screenshot
from tests.reviews.test_carousel_browser import reviews_written, synced_devstore

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DEMO = "demo-outfitters.myshopify.com"
REVIEWS = [  # product, stars, title, words, reviewer, photo colour: shoppers write in their own language
    ("Trail Mug", 5, "정상에서도 따뜻했어요", "아침 여섯 시에 담은 커피가 열 시에 정상에서 마실 때까지 따뜻했어요. "
     "뚜껑도 꽉 닫혀서 가방 안에서 한 번도 새지 않았어요.", "김민지", (180, 83, 9)),
    ("Trail Mug", 4, "保温力は十分です", "朝に入れたコーヒーがお昼まで温かいままでした。ふたが少し固いので星は4つにしました。",
     "佐藤花子", (29, 78, 216)),
    ("Canvas Backpack", 5, "비 오는 날에도 끄떡없어요", "열하루 동안 비를 맞았는데 안에 든 짐이 하나도 젖지 않았어요.",
     "이서준", None),
    ("Merino Beanie", 5, "チクチクしません", "軽くて暖かく、洗濯機で洗っても縮みませんでした。", "山田太郎", (109, 40, 217)),
]
TEXT = {
    "ko": {"heading": "고객 리뷰", "summary": "5점 만점에 4.5점 · 리뷰 2개", "badge": "(리뷰 2개)", "lowest": "별점 낮은 순",
           "report": "김민지님의 리뷰 신고하기", "lightbox": "리뷰 사진", "close": "닫기", "caption": "김민지님의 사진 1/2",
           "date": r"\d{4}\. \d{1,2}\. \d{1,2}\."},
    "ja": {"heading": "カスタマーレビュー", "summary": "5点中4.5点 · レビュー2件", "badge": "（レビュー2件）",
           "lowest": "評価の低い順", "report": "佐藤花子さんのレビューを報告", "lightbox": "レビューの写真", "close": "閉じる",
           "caption": "佐藤花子さんの写真 2/2", "date": r"\d{4}/\d{2}/\d{2}"},
}
NAMES_AND_TITLES = {"Demo", "Outfitters", "Trail", "Mug"}  # the merchant's own words, not Advocate's


@pytest.fixture
def storefront(live_server, tmp_path, settings):
    """devstore on the live server, a shop in English, Korean, Japanese, German, French and Spanish, Trail
    Mug's page with the star badge and the reviews, the home page with the carousel, and four reviews
    synced into Shopify's copy."""
    from reviews.models import Review
    from reviews.services import product_rating_refresh, review_reply
    from shopapp import shopify

    store, shop = synced_devstore(live_server, tmp_path, settings, [
        ("star-badge", None, "mainSection"), ("reviews", None, "mainSection"),
        ("reviews-carousel", "index", "newAppsSection")])
    store.store.shop(DEMO)["locales"] = ["en", "ko", "ja", "de", "fr", "es"]  # published in the admin's Languages
    products = reviews_written(store, shop, REVIEWS, incentivized=(1,))
    review_reply(review=Review.objects.get(display_name="김민지"), text="따뜻하게 드셨다니 기뻐요!", actor="owner")
    for product_id in products.values():  # the last change is what each sync writes: the dates above count
        product_rating_refresh(shop=shop, product_id=product_id)
    yield f"{store.url}/shops/{DEMO}"
    store.stop()
    shopify.set_http_client(None)


def _foreign_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - NAMES_AND_TITLES


@pytest.mark.parametrize("language", ["ko", "ja"])
def test_the_product_pages_badge_and_reviews_speak_the_storefronts_language_on_a_phone(storefront, open_page, language):
    words = TEXT[language]
    page = open_page(f"{storefront}/{language}/products/trail-mug", "phone")
    assert page.evaluate("document.documentElement.lang") == language
    widget = page.get_by_role("region", name=words["heading"])
    assert widget.get_attribute("data-advocate-rendered") is not None  # from Shopify's copy, not the proxy
    assert words["summary"] in widget.locator(".advocate-average").inner_text()
    badge = page.locator(".advocate-badge").get_by_role("link")
    assert words["badge"] in badge.inner_text()
    assert _foreign_words(widget.inner_text() + badge.inner_text()) == set()
    assert re.search(words["date"], widget.locator("time").first.inner_text())
    assert widget.get_by_role("link", name=words["report"]).is_visible()
    assert all(f"/shops/{DEMO}/{language}/" in link for link in widget.locator("a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.wait_for_load_state("load")
    page.wait_for_function("[...document.querySelectorAll('.advocate-photos img')].every(i => i.complete)")
    assert accessibility_violations(page) == []
    screenshot(page, f"storefront-widget-{language}-phone")

    # The photo lightbox (advocate.js) uses the block's words.
    page.wait_for_function("document.querySelector('[data-advocate-loaded]')")
    photo = widget.locator("a[data-advocate-photo]").nth(1 if language == "ja" else 0)
    photo.click()
    dialog = page.get_by_role("dialog", name=words["lightbox"])
    dialog.wait_for()
    assert dialog.locator("figcaption").inner_text() == words["caption"]
    dialog.get_by_role("button", name=words["close"]).click()
    assert not dialog.is_visible()

    # Sorting asks Advocate for the page in the storefront's language.
    with page.expect_request(lambda r: "sort=lowest" in r.url) as asked:
        widget.get_by_role("link", name=words["lowest"]).click()
    assert f"locale={language}" in asked.value.url and "view=fragment" in asked.value.url
    assert page.console_errors == []


def test_the_language_list_opens_the_same_page_in_another_language(storefront, open_page):
    page = open_page(f"{storefront}/ko/products/trail-mug", "phone")
    languages = page.get_by_role("navigation", name="Language")
    assert languages.get_by_role("link", name="한국어").get_attribute("aria-current") == "true"
    languages.get_by_role("link", name="日本語").click()
    page.wait_for_url(f"**/shops/{DEMO}/ja/products/trail-mug")
    assert page.get_by_role("region", name="カスタマーレビュー").is_visible()
    page.get_by_role("navigation", name="Language").get_by_role("link", name="English").click()
    page.wait_for_url(f"**/shops/{DEMO}/products/trail-mug")
    assert page.get_by_role("region", name="Customer reviews").is_visible()


def test_the_home_pages_carousel_in_korean_on_a_phone(storefront, open_page):
    page = open_page(f"{storefront}/ko", "phone")
    carousel = page.get_by_role("region", name="고객님들의 생생한 후기")
    carousel.wait_for()
    assert carousel.locator(".advocate-card").count() == 4
    assert "5점 만점에 4.8점 · 리뷰 4개" in carousel.inner_text()
    page.wait_for_function("document.querySelector('[data-advocate-controls][data-ready]')")
    assert carousel.get_by_role("button", name="이전 리뷰").is_disabled()
    assert carousel.get_by_role("button", name="다음 리뷰").is_enabled()
    assert _foreign_words(carousel.inner_text()) - {"Canvas", "Backpack", "Merino", "Beanie"} == set()
    assert carousel.get_by_role("link", name="리뷰 전체 보기").get_attribute("href") == \
        f"/shops/{DEMO}/ko/apps/advocate/reviews?locale=ko"
    assert carousel.locator(".advocate-card-link").first.get_attribute("href") == f"/shops/{DEMO}/ko/products/trail-mug"
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    carousel.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('.advocate-carousel img')].every(i => i.complete)")
    carousel.screenshot(path=str(artifacts_dir() / "storefront-carousel-ko-phone.png"))
    carousel.get_by_role("button", name="다음 리뷰").click()
    assert page.console_errors == []
