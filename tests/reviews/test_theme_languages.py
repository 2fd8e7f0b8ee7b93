"""The theme app extension in every launch language: its locale files are complete and consistent, and
each block, rendered by devstore's Liquid engine on a Korean storefront (request.locale ko), shows
shoppers Korean only (their own words, the shop's name and the product's title aside)."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from devstore import theme
from reviews.metafields import reviews_value
from reviews.models import ProductRating, ReviewSettings
from reviews.photos import CleanPhoto
from reviews.services import review_create, review_reply
from tests.reviews.test_theme_blocks import product, render, text_of

LOCALES = theme.EXTENSION_DIR / "locales"
LANGUAGES = ["ko", "ja", "de", "fr", "es"]
# CLDR's plural categories for whole numbers, as Shopify picks the key: Korean and Japanese have one form.
PLURALS = {"en": {"one", "other"}, "de": {"one", "other"}, "fr": {"one", "many", "other"},
           "es": {"one", "many", "other"}, "ko": {"other"}, "ja": {"other"}}
PLURAL_KEYS = {"zero", "one", "two", "few", "many", "other"}
# The same in English and in a translation, rightly: formats and marks shared by the language, and a
# name a language keeps (Advocate's own).
SAME_AS_ENGLISH = {
    ("ko", "general.decimal_mark"), ("ja", "general.decimal_mark"),
}
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def _load(name: str) -> dict:
    return json.loads((LOCALES / name).read_text())


def _leaves(tree: dict, path: str = "") -> dict[str, str | dict]:
    """key path -> string, or -> {plural form: string} for a pluralized entry."""
    found = {}
    for key, value in tree.items():
        here = f"{path}.{key}" if path else key
        if isinstance(value, dict) and value and set(value) <= PLURAL_KEYS:
            found[here] = value
        elif isinstance(value, dict):
            found.update(_leaves(value, here))
        else:
            found[here] = value
    return found


def _variables(entry) -> set[str]:
    texts = entry.values() if isinstance(entry, dict) else [entry]
    return {name for text in texts for name in VARIABLE.findall(text)}


@pytest.mark.parametrize("kind", ["", ".schema"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_english_key_with_the_same_variables(language, kind):
    english = _leaves(_load(f"en.default{kind}.json"))
    translated = _leaves(_load(f"{language}{kind}.json"))
    assert sorted(set(english) - set(translated)) == [], "missing"
    assert sorted(set(translated) - set(english)) == [], "not in English (a renamed key?)"
    for key, entry in english.items():
        assert _variables(translated[key]) == _variables(entry), f"{language}{kind}: {key}"
        assert isinstance(translated[key], dict) == isinstance(entry, dict), f"{language}{kind}: {key} plural or not"


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_counted_strings_have_exactly_the_plural_forms_of_their_language(language):
    name = "en.default.json" if language == "en" else f"{language}.json"
    plurals = {key: set(entry) for key, entry in _leaves(_load(name)).items() if isinstance(entry, dict)}
    assert plurals and all(forms == PLURALS[language] for forms in plurals.values()), plurals


@pytest.mark.parametrize("kind", ["", ".schema"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_is_left_in_a_translation(language, kind):
    english = _leaves(_load(f"en.default{kind}.json"))
    translated = _leaves(_load(f"{language}{kind}.json"))
    same = {key for key, entry in english.items() if translated[key] == entry
            or (isinstance(entry, dict) and translated[key].get("other") == entry["other"])}
    assert same <= {key for lang, key in SAME_AS_ENGLISH if lang == language}, sorted(same)


def _tags(text: str) -> list[str]:
    tags = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

        def handle_endtag(self, tag):
            tags.append("/" + tag)

    Tags().feed(text)
    return tags


@pytest.mark.parametrize("language", LANGUAGES)
def test_html_strings_keep_the_english_markup_and_the_rest_has_none(language):
    english, translated = _leaves(_load("en.default.json")), _leaves(_load(f"{language}.json"))
    for key, entry in english.items():
        for form, text in (translated[key].items() if isinstance(entry, dict) else [("", translated[key])]):
            expected = _tags(entry.get("other") if isinstance(entry, dict) else entry)
            assert _tags(text) == (expected if key.endswith("_html") else []), f"{language}: {key} {form}"


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_the_report_links_name_holds_its_visible_word(language):
    """The link shows "Report" and is named "Report this review by …": speech input finds it by what it shows."""
    strings = _leaves(_load("en.default.json" if language == "en" else f"{language}.json"))
    assert strings["reviews.report"].lower() in strings["reviews.report_label"].lower()


# --- the blocks on a Korean storefront ------------------------------------------------------------

KOREAN = {"routes": {"root_url": "/ko"}, "request": {"locale": theme.shop_locale("ko", "en", "/ko")}}
ALLOWED_LATIN = {"Owner", "Co", "Trail", "Mug"}  # the shop's name and the product's title, as the merchant wrote them


def _latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_LATIN


def _korean(block_file: str, **context) -> str:
    return render(block_file, **{**KOREAN, **context})


@pytest.mark.django_db
def test_the_reviews_block_in_korean_shows_no_english(shop):
    ReviewSettings.objects.update_or_create(shop=shop, defaults={"non_buyer_reviews": True, "incentive_enabled": True})
    first = review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, title="정상에서도 따뜻했어요",
                          body="뚜껑이 꽉 닫혀요.", display_name="김민지", incentivized=True,
                          photos=[CleanPhoto(data=b"jpeg", width=40, height=30)])
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=4, body="좋아요.", display_name="이서준")
    review_reply(review=first, text="감사합니다!", actor="owner")
    data = json.loads(reviews_value(shop, ProductRating.objects.get(shop=shop, product_id=42)))
    html = _korean("reviews.liquid", product=product({"$app": {"reviews": {"value": data}}}),
                   block={"settings": {"heading": "Customer reviews"}})  # the old English default: translated
    text, _ = text_of(html)
    assert _latin_words(text) == set(), text
    assert "고객 리뷰" in text and "5점 만점에 <strong>4.5</strong>점 · 리뷰 2개" in html
    assert "별 1개" in text and "리뷰 0개" in text  # the histogram: Korean counts have one form
    assert "최신순" in text and "별점 높은 순" in text and "혜택 제공" in text and "Owner & Co의 답변" in text
    assert "‘혜택 제공’ 표시가 붙은 리뷰는" in text and "그 밖의 리뷰는" in text  # the statement, from the settings
    assert re.search(r"\d{4}\. \d{1,2}\. \d{1,2}\.", text)  # dates as Korean writes them
    assert 'alt="김민지님이 올린 사진 1"' in html and 'aria-label="김민지님의 리뷰 신고하기"' in html
    # The lightbox's words, for advocate.js; its placeholders survive translation.
    assert 'data-lb-close="닫기"' in html and 'data-lb-position-author="{a}님의 사진 {n}/{t}"' in html
    # Every link to the proxy names the storefront's language, under the language's root.
    links = re.findall(r'(?:href|data-src)="(/[^"]*apps/advocate/[^"]*)"', html)
    assert links and all(link.startswith("/ko/apps/advocate/") for link in links), links
    assert all("locale=ko" in link for link in links if "/photos/" not in link), links
    assert "translation missing" not in html


@pytest.mark.django_db
def test_a_merchants_own_heading_is_shown_as_written(shop):
    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, body="좋아요.")
    data = json.loads(reviews_value(shop, ProductRating.objects.get(shop=shop, product_id=42)))
    html = _korean("reviews.liquid", product=product({"$app": {"reviews": {"value": data}}}),
                   block={"settings": {"heading": "우리 <손님> 이야기"}})
    assert '<h2 class="advocate-heading">우리 &lt;손님&gt; 이야기</h2>' in html


def test_the_reviews_blocks_other_states_in_korean():
    fallback = _korean("reviews.liquid", product=product())
    assert "Trail <Mug> 리뷰 보기" in text_of(fallback)[0]
    assert 'data-src="/ko/apps/advocate/reviews/42?locale=ko"' in fallback
    empty = {"v": 1, "average": 0, "count": 0, "histogram": {}, "verification": "", "write": True,
             "incentives": False, "reviews": [], "more": False}
    text, _ = text_of(_korean("reviews.liquid", product=product({"$app": {"reviews": {"value": empty}}})))
    assert "아직 리뷰가 없어요." in text and "첫 리뷰 쓰기" in text and _latin_words(text) == set()


def test_the_star_badge_in_korean():
    badge = _korean("star-badge.liquid", product=product({"reviews": {
        "rating": {"value": {"rating": 4.5, "scale_min": 1, "scale_max": 5}}, "rating_count": {"value": 1}}}))
    text, _ = text_of(badge)
    assert "4.5 (리뷰 1개)" in text and "별점 5점 만점에 4.5점, 리뷰 1개" in text and _latin_words(text) == set()
    assert 'href="/ko/apps/advocate/reviews/42?locale=ko"' in badge
    loading = _korean("star-badge.liquid", product=product())
    assert 'data-src="/ko/apps/advocate/reviews/42/badge?locale=ko"' in loading


def test_german_and_french_write_the_decimal_comma():
    for language, expected in (("de", "4,5 (1 Bewertung)"), ("fr", "4,5 (1 avis)")):
        badge = render("star-badge.liquid", request={"locale": theme.shop_locale(language, "en", f"/{language}")},
                       product=product({"reviews": {"rating": {"value": {"rating": 4.5}}, "rating_count": {"value": 1}}}))
        assert expected in text_of(badge)[0]


@pytest.mark.django_db
def test_the_carousel_in_korean_shows_no_english(shop):
    from tests.reviews.test_theme_blocks import _carousel, _featured_data

    review_create(shop=shop, product_id=42, product_title="Trail Mug", rating=5, title="최고예요",
                  body="아침에 담은 커피가 점심까지 따뜻해요.", display_name="김민지",
                  photos=[CleanPhoto(data=b"jpeg", width=4, height=3)])
    review_create(shop=shop, product_id=43, product_title="Trail Mug", rating=4, body="튼튼해요.", display_name="이서준")
    ProductRating.objects.filter(shop=shop, product_id=42).update(handle="trail-mug")
    html = _carousel(_featured_data(shop), KOREAN)
    text, _ = text_of(html)
    assert _latin_words(text) == set(), text
    assert "고객님들의 생생한 후기" in text and "5점 만점에 4.5점 · 리뷰 2개" in text and "리뷰 전체 보기" in text
    assert 'aria-label="다음 리뷰"' in html and 'alt="리뷰 사진"' in html
    assert '<a href="/ko/apps/advocate/reviews?locale=ko">' in html
    assert 'href="/ko/apps/advocate/reviews/43?locale=ko"' in html  # a product without a known handle
    hint = render("reviews-carousel.liquid", request={"design_mode": True, "locale": KOREAN["request"]["locale"]},
                  block={"id": "b1", "settings": {}})
    assert "리뷰 캐러셀:" in text_of(hint)[0]


def test_the_refer_a_friend_button_in_korean():
    for settings in ({}, {"label": "Give 10%, get credit"}):  # empty, or the old English default
        html = _korean("referral-embed.liquid", block={"settings": settings})
        assert '<a class="advocate advocate-refer" href="/ko/apps/advocate/referrals/?locale=ko">10% 할인 선물하고 적립금 받기</a>' in html
    own = _korean("referral-embed.liquid", block={"settings": {"label": "친구 초대 <이벤트>"}})
    assert ">친구 초대 &lt;이벤트&gt;</a>" in own


@pytest.mark.parametrize("handle", theme.blocks_available())
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_theme_editor_names_every_block_and_setting_in_the_merchants_language(handle, language):
    schema = json.dumps(theme.block_schema(handle, language), ensure_ascii=False)
    assert '"t:' not in schema and json.dumps(theme.block_schema(handle), ensure_ascii=False) != schema
