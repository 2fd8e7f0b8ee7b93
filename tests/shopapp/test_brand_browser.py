"""Settings › Brand in the panel: what Shopify's brand settings gave, the merchant's own logo and
colour, a preview of both as customers see them, and a bad colour refused with nothing lost."""
from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot
from tests.conftest import session_token
from tests.money.conftest import devstore  # noqa: F401  (the devstore fixture, for the logo picture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_merchant_sees_their_brand_and_changes_its_colour(live_server, open_page, width, devstore):  # noqa: F811
    from django.utils import timezone

    from shopapp.models import Shop
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    Shop.objects.filter(pk=shop.pk).update(
        shopify_logo_url=f"{devstore.url}/shops/demo-outfitters.myshopify.com/brand/logo.svg",
        shopify_brand_color="#2f6f4e", brand_read_at=timezone.now())
    page = open_page(f"{live_server.url}/app/settings/?id_token={session_token(shop.domain)}#brand", width)
    brand = page.get_by_role("region", name="Brand")
    assert brand.get_by_text("From your Shopify brand settings").is_visible()
    preview = brand.locator(".brand-preview-button")
    assert preview.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(47, 111, 78)"
    page.get_by_label("Brand colour (#rrggbb)").fill("green")
    page.get_by_role("button", name="Save brand").click()
    page.wait_for_load_state()
    assert page.get_by_text("Write the colour as # and six hex digits").is_visible()
    assert page.get_by_label("Brand colour (#rrggbb)").input_value() == "green"  # what was typed is kept
    assert Shop.objects.get(pk=shop.pk).brand_color == ""
    page.get_by_label("Brand colour (#rrggbb)").fill("#7a1f5c")
    page.get_by_role("button", name="Save brand").click()
    page.wait_for_load_state()
    assert Shop.objects.get(pk=shop.pk).brand_color == "#7a1f5c"
    assert page.locator(".brand-preview-button").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
    page.locator("#brand").scroll_into_view_if_needed()
    screenshot(page, f"panel-settings-brand-{width}")
    assert accessibility_violations(page) == []
