"""A review request, the form its stars open and the thank-you page, in the language the customer bought in."""
from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.core import mail

from reviews.models import DEFAULT_BODY, DEFAULT_SUBJECT, Review, ReviewRequest, ReviewSettings
from reviews.requests import review_link, review_request_test_send
from shopapp.models import Order
from tests.reviews.conftest import order_payload, sweep_at

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


@pytest.fixture
def ordered_in(post_webhook, shop, mail_backend):
    """An order placed in `locale` on the storefront, fulfilled, its request emailed; returns the request."""

    def make(locale: str, *, first_name: str = "지민", **kwargs) -> ReviewRequest:
        payload = {**order_payload(**kwargs), "customer_locale": locale}
        payload["customer"] = {**payload["customer"], "first_name": first_name}
        post_webhook("orders/create", payload, shop)
        post_webhook("orders/fulfilled", {**payload, "fulfillment_status": "fulfilled"}, shop)
        order = Order.objects.get(shop=shop, shopify_id=payload["id"])
        sweep_at(order.fulfilled_at + 15 * DAY)
        return ReviewRequest.objects.get(order=order)

    return make


def _path(request: ReviewRequest) -> str:
    return review_link(request).removeprefix(settings.APP_URL)


def test_a_korean_buyer_gets_the_review_request_in_korean(ordered_in, shop):
    ordered_in("ko-KR")
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.subject == f"{shop.name}에서 주문하신 상품은 어떠셨나요?"
    assert message.body.startswith("지민님, 안녕하세요.")
    assert '<html lang="ko" dir="ltr">' in html
    assert 'title="별 5개"' in html and ">리뷰 쓰기</a>" in html and "수신 거부" in html
    assert "Write a review" not in html and "Unsubscribe" not in html
    assert "이 링크는 180일 동안 유효하며" in message.body and "이메일 수신 거부:" in message.body


def test_a_language_advocate_does_not_speak_falls_back_to_the_shops_then_to_english(ordered_in, shop):
    shop.primary_locale = "de"
    shop.save()
    ordered_in("pt-BR", first_name="Lukas")
    assert mail.outbox[0].subject == f"Wie gefällt Ihnen Ihre Bestellung bei {shop.name}?"
    assert mail.outbox[0].body.startswith("Hallo Lukas,")
    shop.primary_locale = ""
    shop.save()
    ordered_in("pt-BR", first_name="Ana", email="ana@example.com", customer_id=77)
    assert mail.outbox[1].subject == f"How was your order from {shop.name}?"


def test_a_nameless_buyer_is_greeted_the_way_their_language_greets_a_stranger(ordered_in):
    ordered_in("ja", first_name="")
    assert mail.outbox[0].body.startswith("お客様\n\n")


def test_the_merchants_own_words_are_sent_in_their_language_and_otherwise_as_written(ordered_in, shop):
    config = ReviewSettings.for_shop(shop)
    config.translations = {"ko": {"email_subject": "{first_name}님, {shop} 후기를 남겨 주세요"}}
    config.email_body = "Hi {first_name}, tell us about order {order}."  # changed from the default
    config.save()
    request = ordered_in("ko-KR")
    message = mail.outbox[0]
    assert message.subject == f"지민님, {shop.name} 후기를 남겨 주세요"
    # No Korean version of the merchant's own body: their words, not a translation of the default.
    assert message.body.startswith(f"Hi 지민, tell us about order {request.order.name}.")
    # The subject kept the built-in default: a German buyer gets its German translation.
    assert config.translated("email_subject", "de") == "Wie gefällt Ihnen Ihre Bestellung bei {shop}?"
    assert config.translated("email_body", "de") == config.email_body
    config.email_body = DEFAULT_BODY
    assert config.translated("email_body", "ja").startswith("{first_name}様")


def test_the_merchant_can_send_themselves_the_request_in_any_launch_language(shop, mail_backend):
    review_request_test_send(shop=shop, to="owner@example.com", language="fr")
    assert mail.outbox[0].subject == f"[Test] Que pensez-vous de votre commande chez {shop.name} ?"


def test_the_form_the_korean_email_opens_is_korean_and_lang_overrides_it(client, ordered_in):
    request = ordered_in("ko-KR")
    response = client.get(_path(request), HTTP_ACCEPT_LANGUAGE="en-US")
    page = response.content.decode()
    assert response["Content-Language"] == "ko"
    assert '<html lang="ko" dir="ltr">' in page
    assert "<h1>상품은 마음에 드셨나요?</h1>" in page
    assert "Trail Mug 별점 (필수)" in page and "별 4개" in page and "리뷰 올리기" in page
    messages = json.loads(re.search(r'<script id="photo-messages" type="application/json">(.*?)</script>', page).group(1))
    assert messages["remove"] == "삭제" and messages["chosen"]["3"] == "사진 %(room)s장 중 %(chosen)s장을 선택했어요."
    japanese = client.get(_path(request) + "?lang=ja").content.decode()
    assert '<html lang="ja"' in japanese and "お買い物はいかがでしたか？" in japanese


def test_a_korean_review_is_thanked_in_korean_and_errors_come_in_korean(client, ordered_in):
    request = ordered_in("ko-KR")
    item = request.items.get()
    prefix = f"i{item.pk}"
    refused = client.post(_path(request), {f"{prefix}-body": "별점을 깜빡했어요"})
    assert refused.status_code == 400
    assert "리뷰를 올리려면 별점을 선택해 주세요." in refused.content.decode()
    done = client.post(_path(request), {f"{prefix}-rating": "5", f"{prefix}-body": "정말 좋아요"}, follow=True)
    page = done.content.decode()
    assert Review.objects.get().rating == 5
    assert "리뷰를 남겨 주셔서 감사합니다" in page and "별 5개." in page and "리뷰 수정" in page


def test_a_bad_link_speaks_the_browsers_language(client):
    page = client.get("/reviews/r/not-a-token", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert "Dieser Bewertungslink funktioniert nicht" in page and '<html lang="de"' in page


def _settings_post(client, make_session_token, shop, **data):
    fields = {"action": "save", "requests_enabled": "on", "trigger": "fulfilled", "delay_days": "14",
              "international_delay_days": "21", "reminder_days": "7", "email_subject": DEFAULT_SUBJECT,
              "email_body": DEFAULT_BODY, "incentive_percent": "10", **data}
    return client.post(f"/app/reviews/settings/?id_token={make_session_token(shop.domain)}", fields)


def test_the_panel_offers_the_email_in_every_other_language_and_keeps_only_what_the_merchant_changed(
        client, make_session_token, panel_get, shop):
    page = panel_get("/app/reviews/settings/", shop).content.decode()
    assert '<fieldset class="translation" lang="ko">' in page
    assert 'name="tr-ko-email_subject"' in page and 'value="{shop}에서 주문하신 상품은 어떠셨나요?"' in page
    shown = {f"tr-{code}-{name}": ReviewSettings.for_shop(shop).translated(name, code)
             for code in ("ko", "ja", "de", "fr", "es") for name in ("email_subject", "email_body")}
    response = _settings_post(client, make_session_token, shop, **{
        **shown, "tr-ko-email_subject": "{first_name}님, {shop} 후기를 남겨 주세요"})
    assert response.status_code == 200
    assert ReviewSettings.for_shop(shop).translations == {"ko": {"email_subject": "{first_name}님, {shop} 후기를 남겨 주세요"}}
    # The merchant rewrites their own subject and leaves the other languages as shown: those still follow Advocate's.
    response = _settings_post(client, make_session_token, shop, **{**shown, "email_subject": "Your thoughts on {order}?"})
    config = ReviewSettings.for_shop(shop)
    assert config.email_subject == "Your thoughts on {order}?" and set(config.translations) == {"ko"}
    # An unknown placeholder in one language saves nothing.
    refused = _settings_post(client, make_session_token, shop, **{**shown, "tr-de-email_body": "Hallo {vorname}"})
    assert refused.status_code == 400 and "Unknown placeholder {vorname}" in refused.content.decode()
    assert "de" not in ReviewSettings.for_shop(shop).translations


def test_the_panel_previews_and_test_sends_the_email_in_the_language_chosen(client, make_session_token, panel_get,
                                                                             shop, mail_backend):
    page = panel_get("/app/reviews/settings/?preview=ja", shop).content.decode()
    assert f'<span lang="ja">{shop.name}でのお買い物はいかがでしたか？</span>' in page
    client.post(f"/app/reviews/settings/?id_token={make_session_token(shop.domain)}",
                {"action": "test", "to": "owner@example.com", "language": "es"})
    assert mail.outbox[0].subject == f"[Test] ¿Qué tal tu pedido de {shop.name}?"
