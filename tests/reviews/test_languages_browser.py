"""The review form in Korean and Japanese on a phone, and laid out right to left, in Chromium."""
from __future__ import annotations

import pytest
from django.conf import settings

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADINGS = {"ko": "상품은 마음에 드셨나요?", "ja": "お買い物はいかがでしたか？"}
THANKS = {"ko": "리뷰를 남겨 주셔서 감사합니다", "ja": "レビューをありがとうございます"}
POST = {"ko": "리뷰 올리기", "ja": "レビューを投稿する"}


def _sent_request(locale: str):
    from reviews.models import ReviewRequest
    from reviews.requests import review_request_schedule, review_requests_sweep
    from shopapp.orders import order_upsert
    from tests.conftest import _make_shop
    from tests.reviews.conftest import order_payload

    shop = _make_shop("owner-shop.myshopify.com")
    payload = {**order_payload(products=((1, "Trail Mug"), (2, "Camp Kettle"))), "fulfillment_status": "fulfilled",
               "customer_locale": locale}
    order = order_upsert(shop=shop, payload=payload)
    review_request_schedule(order=order)
    review_requests_sweep(now=order.fulfilled_at + 15 * settings.ADVOCATE_DAY)
    return ReviewRequest.objects.get(order=order)


@pytest.mark.parametrize("language, locale", [("ko", "ko-KR"), ("ja", "ja-JP")])
def test_the_review_form_reads_in_korean_and_japanese_on_a_phone(live_server, open_page, language, locale, settings):
    from reviews.models import Review
    from reviews.requests import review_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = _sent_request(locale)
    mug = request.items.get(title="Trail Mug")
    path = review_link(request).removeprefix(settings.APP_URL)
    page = open_page(f"{live_server.url}{path}?item={mug.pk}&rating=5", "phone")
    assert page.evaluate("document.documentElement.lang") == language
    assert page.get_by_role("heading", name=HEADINGS[language]).is_visible()
    # Korean breaks between words, not inside them; neither language spills past a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The glyphs come from a CJK font, not boxes: a line of Hangul or kana is as wide as its characters.
    width = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '16px ' + getComputedStyle(document.body).fontFamily;
        return [c.measureText('상품은마음에').width, c.measureText('いかがでしたか').width]; }""")
    assert all(w > 50 for w in width)
    assert accessibility_violations(page) == []
    screenshot(page, f"form-{language}-phone")
    page.get_by_role("button", name=POST[language]).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=THANKS[language]).is_visible()
    assert Review.objects.get().rating == 5
    screenshot(page, f"review-thanks-{language}-phone")


def test_the_review_form_lays_out_right_to_left(live_server, open_page, settings):
    """Before any right-to-left language ships: Arabic (Django knows it is written right to left)
    with English words, and the form must mirror, not break."""
    from reviews.requests import review_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGES = [*settings.LANGUAGES, ("ar", "العربية")]
    request = _sent_request("en")
    path = review_link(request).removeprefix(settings.APP_URL)
    page = open_page(f"{live_server.url}{path}?lang=ar", "phone")
    assert page.evaluate("[document.documentElement.dir, getComputedStyle(document.body).direction]") == ["rtl", "rtl"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    main = page.locator("main").bounding_box()
    content_right = main["x"] + main["width"] - 16  # the page's padding
    # Headings, labels and fields start at the right edge, as a right-to-left reader expects.
    for locator in (page.locator("h1"), page.locator("section.product h2").first,
                    page.locator("label[for$='-title']").first, page.locator("textarea").first):
        box = locator.bounding_box()
        assert box["x"] + box["width"] == pytest.approx(content_right, abs=20), locator
        assert box["x"] >= main["x"]
    heading = page.locator("h1").evaluate("e => { const r = document.createRange(); r.selectNodeContents(e);"
                                           " return [r.getBoundingClientRect().right, e.getBoundingClientRect().right]; }")
    assert heading[0] == pytest.approx(heading[1], abs=2)  # the text itself hugs the right edge
    # The stars stay a row of five inside the card; the first one (1 star) on the right.
    stars = page.locator("section.product").first.locator(".stars-row label")
    boxes = [stars.nth(i).bounding_box() for i in range(5)]
    assert len({round(b["y"]) for b in boxes}) == 1
    assert all(b["x"] >= main["x"] for b in boxes)
    one_star = page.locator("section.product").first.locator(".stars-row input[value='1'] + label").bounding_box()
    assert one_star["x"] == max(b["x"] for b in boxes)
    assert accessibility_violations(page) == []
    screenshot(page, "form-rtl-phone")


def test_the_merchant_writes_the_korean_email_and_previews_it_on_a_phone(live_server, open_page):
    from reviews.models import ReviewSettings
    from tests.conftest import _make_shop, session_token

    shop = _make_shop("owner-shop.myshopify.com")
    token = session_token(shop.domain)
    page = open_page(f"{live_server.url}/app/reviews/settings/?id_token={token}", "phone")
    page.get_by_text("The email in your customers' other languages").click()
    korean = page.locator("fieldset[lang='ko']")
    subject = korean.get_by_label("Subject")
    assert subject.input_value() == "{shop}에서 주문하신 상품은 어떠셨나요?"  # Advocate's own, offered to change
    assert korean.get_by_label("Email text").input_value().startswith("{first_name}님, 안녕하세요.")
    subject.fill("{first_name}님, {shop} 후기를 남겨 주세요")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert ReviewSettings.for_shop(shop).translations == {"ko": {"email_subject": "{first_name}님, {shop} 후기를 남겨 주세요"}}
    page.get_by_role("link", name="한국어").click()
    page.wait_for_load_state()
    assert page.locator("section[aria-labelledby='preview'] span[lang='ko']").inner_text() == "Alex님, Owner Shop 후기를 남겨 주세요"
    assert page.frame_locator("iframe.preview").get_by_text("리뷰 쓰기").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    page.get_by_text("The email in your customers' other languages").click()
    # Saved from a browser (line breaks sent as CRLF), the default body is still the default: translated.
    assert page.locator("fieldset[lang='ja']").get_by_label("Email text").input_value().startswith("{first_name}様")
    screenshot(page, "panel-review-settings-languages-phone")


@pytest.mark.parametrize("language, locale", [("ko", "ko-KR"), ("ja", "ja-JP")])
def test_the_request_email_reads_in_korean_and_japanese_on_a_phone(browser, language, locale, settings):
    from django.core import mail

    from tests.browser import PHONE

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _sent_request(locale)
    html = mail.outbox[0].alternatives[0][0]
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_content(html, wait_until="load")
        assert page.evaluate("document.documentElement.lang") == language
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        stars = page.locator("a[title]")
        assert stars.count() == 10 and stars.first.bounding_box()["width"] >= 32
        screenshot(page, f"email-request-{language}-phone")
    finally:
        context.close()
