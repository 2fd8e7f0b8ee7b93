from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _advocate():
    from referrals.models import Advocate, ProgramSettings
    from tests.conftest import _make_shop
    from tests.referrals.helpers import customer

    shop = _make_shop("owner-shop.myshopify.com")
    ProgramSettings.objects.create(shop=shop, friend_offer_value="15", landing_text="Organic tea, shipped fast.")
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya"), code="MAYA-7K2Q",
                                   code_state=Advocate.CodeState.CREATED)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_friend_landing_page_offers_the_discount_and_fits_a_phone(live_server, open_page, width, settings):
    settings.SHOPIFY_UPSTREAM_URL = live_server.url + "/devstore-stub"
    _advocate()
    page = open_page(f"{live_server.url}/r/MAYA-7K2Q", width)
    assert page.get_by_role("heading", name="Maya sent you 15% off your first order").is_visible()
    button = page.get_by_role("link", name="Shop with your discount")
    assert button.is_visible()
    assert button.get_attribute("href").endswith("/shops/owner-shop.myshopify.com/discount/MAYA-7K2Q?redirect=/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = button.bounding_box()
    assert box["height"] >= 44  # a comfortable tap target
    screenshot(page, f"referral-landing-{width}")
    assert accessibility_violations(page) == []


def test_unknown_code_page_is_friendly_and_accessible(live_server, open_page):
    _advocate()
    page = open_page(f"{live_server.url}/r/NOPE-2222", "phone")
    assert page.get_by_role("heading", name="This referral link isn't active").is_visible()
    assert accessibility_violations(page) == []
