from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from reviews.models import ModerationDecision, ProductRating, Review
from reviews.moderation import review_text_reasons
from reviews.services import review_create, review_reject, reviews_auto_publish

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text,reason", [
    ("Buy cheap pills at http://spam.example", "link"),
    ("see www.example.org for more", "link"),
    ("This is shit quality", "profanity"),
    ("Call me on +1 555 010 0199 about it", "personal_data"),
    ("write to maya@example.com", "personal_data"),
    ("asdfghjkl qwrtzpsdf", "gibberish"),
    ("Loooooooooooved it", "gibberish"),
])
def test_content_rules_hold_text_that_breaks_them(shop, text, reason):
    assert reason in review_text_reasons(shop=shop, title="", body=text)


@pytest.mark.parametrize("text", [
    "Keeps my coffee hot for hours. Handle is a bit small.",
    "Terrible. Broke after two days and support never answered.",
    "Rhythm of the strengths: 10/10, bought 2 for my sister.",
    "",
])
def test_ordinary_reviews_good_or_bad_pass_the_rules(shop, text):
    assert review_text_reasons(shop=shop, title="Honest opinion", body=text) == []


def test_duplicate_text_is_held_whatever_the_punctuation(shop):
    review_create(shop=shop, product_id=1, product_title="Mug", rating=5, body="Best mug I have ever owned, truly!")
    second = review_create(shop=shop, product_id=2, product_title="Kettle", rating=5, body="best mug i have ever owned truly")
    assert second.held_reasons == ["duplicate"]


@pytest.mark.parametrize("rating", [1, 5])
def test_the_same_text_gets_the_same_verdict_at_any_rating(shop, rating):
    clean = review_create(shop=shop, product_id=1, product_title="Mug", rating=rating, body="Arrived late and chipped.")
    held = review_create(shop=shop, product_id=1, product_title="Mug", rating=rating, body="Details at www.x.com")
    assert clean.status == Review.Status.PUBLISHED and held.status == Review.Status.HELD


def test_reject_needs_a_fixed_reason_and_negative_is_not_one(shop):
    review = review_create(shop=shop, product_id=1, product_title="Mug", rating=1, body="Awful.")
    with pytest.raises(ValueError):
        review_reject(review=review, reason="negative", actor="merchant")
    review_reject(review=review, reason="unrelated", actor="staff 7")
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED
    decision = review.decisions.first()
    assert (decision.action, decision.reason, decision.actor) == ("rejected", "Unrelated to the product", "staff 7")
    assert ProductRating.objects.get(shop=shop, product_id=1).count == 0


def test_held_review_publishes_itself_after_fourteen_days(shop):
    review = review_create(shop=shop, product_id=1, product_title="Mug", rating=2, body="email me a@b.co")
    assert review.status == Review.Status.HELD
    assert reviews_auto_publish(now=timezone.now() + 13 * settings.ADVOCATE_DAY) == 0
    assert reviews_auto_publish(now=timezone.now() + 15 * settings.ADVOCATE_DAY) == 1
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert review.decisions.first().action == ModerationDecision.Action.AUTO_PUBLISHED
    assert ProductRating.objects.get(shop=shop, product_id=1).count == 1


def test_rejected_review_is_not_auto_published(shop):
    review = review_create(shop=shop, product_id=1, product_title="Mug", rating=2, body="email me a@b.co")
    review_reject(review=review, reason="personal_data", actor="merchant")
    reviews_auto_publish(now=timezone.now() + 30 * settings.ADVOCATE_DAY)
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED


def test_a_review_held_for_personal_data_publishes_itself_with_the_email_and_phone_masked(shop, panel_get):
    review = review_create(shop=shop, product_id=1, product_title="Mug", rating=4, title="Write to maya@example.com",
                           body="Lovely mug. Call me on +44 20 7946 0958 or maya.r+mugs@example.co.uk, order 2 more")
    assert review.status == Review.Status.HELD
    page = panel_get(f"/app/reviews/{review.pk}/", shop).content.decode()
    assert "publishes itself after 14 days unless you decide, with its email addresses and phone numbers replaced" in page
    assert reviews_auto_publish(now=timezone.now() + 15 * settings.ADVOCATE_DAY) == 1
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert review.title == "Write to [email removed]"
    assert review.body == "Lovely mug. Call me on [phone removed] or [email removed], order 2 more"
    decision = review.decisions.first()
    assert decision.action == ModerationDecision.Action.AUTO_PUBLISHED and "masked" in decision.reason


def test_masking_a_long_title_keeps_it_within_its_column(shop):
    title = "x@y.io " * 17  # 119 characters that grow when masked
    review = review_create(shop=shop, product_id=1, product_title="Mug", rating=4, title=title.strip())
    reviews_auto_publish(now=timezone.now() + 15 * settings.ADVOCATE_DAY)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED and "@" not in review.title and len(review.title) <= 120


@pytest.mark.parametrize("text,reason", [
    ("Das ist echt Scheiße, kaputt nach zwei Tagen", "profanity"),
    ("Quelle merde, cassé au bout de deux jours", "profanity"),
    ("Una mierda, se rompió en dos días", "profanity"),
    ("진짜 씨발 이틀 만에 고장났어요", "profanity"),  # Korean: inside a run of syllables, no word boundary
    ("二日で壊れた。クソだな", "profanity"),
    ("연락 주세요 010-1234-5678", "personal_data"),
    ("電話は０９０－１２３４－５６７８まで", "personal_data"),  # full-width digits and dash
    ("03-1234-5678 に電話してください", "personal_data"),
    ("メールはyuki＠example.jp", "personal_data"),
])
def test_the_rules_work_in_each_launch_language(shop, text, reason):
    assert reason in review_text_reasons(shop=shop, title="", body=text)


@pytest.mark.parametrize("text", [
    "Sehr schöne Tasse, hält den Kaffee lange warm. Der Henkel ist etwas klein.",
    "Très bonne qualité, livraison rapide. Je recommande !",
    "Muy buena calidad, aunque el envío tardó una semana.",
    "배송이 빠르고 품질이 정말 좋아요ㅋㅋㅋㅋㅋㅋㅋㅋ 재구매 의사 있습니다",  # laughter is not gibberish
    "思ったより大きくて使いやすいです。色もきれいwwwwwww",
    "생각보다 작아요. 그래도 만족합니다.",
    "期待外れでした。二日で取っ手が取れました。",  # negative, and still published at once
    "Kontaktierte den Support am 12.03.2026, keine Antwort.",
])
def test_ordinary_reviews_in_each_language_pass_the_rules(shop, text):
    assert review_text_reasons(shop=shop, title="", body=text) == []


def test_masking_finds_korean_and_japanese_phone_numbers(shop):
    from reviews.moderation import personal_data_mask

    assert personal_data_mask("연락 010-1234-5678 주세요") == "연락 [phone removed] 주세요"
    assert personal_data_mask("電話 ０９０－１２３４－５６７８ まで") == "電話 [phone removed] まで"
