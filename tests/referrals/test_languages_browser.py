"""A friend's referral landing page in Korean and Japanese on a phone, in Chromium, in the browser's language."""
from __future__ import annotations

import pytest

from tests.browser import PHONE, accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADINGS = {"ko": "지민님이 첫 주문 15% 할인 혜택을 보냈어요", "ja": "지민さんから初回注文15%オフのプレゼントが届きました"}
BUTTONS = {"ko": "할인받고 쇼핑하기", "ja": "割引を使ってお買い物する"}


def _advocate():
    from referrals.models import Advocate, ProgramSettings
    from tests.conftest import _make_shop
    from tests.referrals.helpers import customer, order

    shop = _make_shop("owner-shop.myshopify.com")
    ProgramSettings.objects.create(shop=shop, friend_offer_value="15", reward_value="10")
    buyer = customer(shop, first_name="지민", shopify_id=222)
    order(shop, buyer, customer_locale="ko-KR")
    return Advocate.objects.create(shop=shop, customer=buyer, code="JIMIN-4R7T", code_state=Advocate.CodeState.CREATED)


@pytest.mark.parametrize("language, locale", [("ko", "ko-KR"), ("ja", "ja-JP")])
def test_a_friend_reads_the_landing_page_in_their_browsers_language_on_a_phone(live_server, browser, language, locale):
    _advocate()
    context = browser.new_context(viewport=PHONE, locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/r/JIMIN-4R7T")
        assert page.evaluate("document.documentElement.lang") == language
        assert page.get_by_role("heading", name=HEADINGS[language]).is_visible()
        assert page.get_by_role("link", name=BUTTONS[language]).is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert accessibility_violations(page) == []
        screenshot(page, f"referral-landing-{language}-phone")
    finally:
        context.close()
