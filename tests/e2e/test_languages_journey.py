"""The Korean buyer's journey over real HTTP against devstore: the order carries customer_locale, and
the request, the form, the thank-you page, the storefront's reviews page and the referral link speak
Korean; then what Advocate stored."""
from __future__ import annotations

import pytest

from devstore.journeys.languages import korean_journey
from tests.e2e.conftest import DEMO

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def journey(installed):
    return korean_journey(installed.store, installed.app_url, DEMO)


def test_the_order_keeps_the_korean_storefronts_locale(installed, journey):
    [(locale,)] = installed.db("select customer_locale from shopapp_order where shopify_id = ?", (journey.order_id,))
    assert locale == "ko-KR"


def test_the_shop_primary_locale_was_read_from_shopify_at_install(installed, journey):
    [(primary,)] = installed.db("select primary_locale from shopapp_shop where domain = ?", (DEMO,))
    assert primary == "en"


def test_the_request_email_is_korean_in_both_parts(journey):
    assert journey.request["subject"].endswith("주문하신 상품은 어떠셨나요?")
    assert '<html lang="ko"' in journey.request["html"] and "리뷰 쓰기" in journey.request["html"]
    assert "이메일 수신 거부:" in journey.request["text"]


def test_the_form_thanks_storefront_and_landing_page_are_korean(journey):
    assert 'lang="ko"' in journey.form and 'lang="ko"' in journey.thanks
    assert "구매 인증" in journey.storefront
    assert "친구에게" in journey.invitation["subject"] and "지민님, 안녕하세요." in journey.invitation["text"]
    assert '<html lang="ko"' in journey.landing


def test_the_korean_storefronts_product_page_shows_advocates_block_in_korean(journey):
    page = journey.product_page
    start = page.index('<section class="advocate advocate-reviews"')
    block = page[start:page.index("</section>", start)]
    assert 'aria-label="고객 리뷰"' in block and "구매 인증" in block and "5점 만점에" in block
    assert "/ko/apps/advocate/reviews/" in block and "locale=ko" in block  # its links stay on the Korean storefront
    assert "Customer reviews" not in block and "Verified buyer" not in block
