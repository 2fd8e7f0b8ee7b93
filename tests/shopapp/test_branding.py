"""The shop's brand, read from Shopify's brand settings through Advocate's own storefront token
(made once, adopted after a lost answer, replaced when revoked) and kept readable."""
from __future__ import annotations

import pytest
from django.conf import settings

from shopapp.branding import NEUTRAL, brand_read, brand_uninstalled, contrast, readable, shop_brand
from shopapp.models import Shop
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(devstore):  # noqa: F811
    return connected_shop(devstore, scopes=",".join(settings.SHOPIFY_SCOPES))


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _tokens(devstore):  # noqa: F811
    return devstore.store.shop(DEMO).get("storefront_tokens", [])


def test_the_brand_is_read_from_shopify_with_one_token_of_advocates_own(shop, devstore):  # noqa: F811
    assert brand_read(shop.pk) == "read"
    assert brand_read(shop.pk) == "read"  # the next day's read uses the token it has
    shop.refresh_from_db()
    assert shop.shopify_logo_url.endswith(f"/shops/{DEMO}/brand/logo.svg")
    assert shop.shopify_brand_color == "#2f6f4e" and shop.brand_read_error == ""
    assert [t["title"] for t in _tokens(devstore)] == ["Advocate brand"]
    assert shop_brand(shop).logo_url == shop.shopify_logo_url and shop_brand(shop).color == "#2f6f4e"


def test_a_token_whose_creation_answer_was_lost_is_adopted_not_made_again(shop, devstore):  # noqa: F811
    devstore.fault(DEMO, "storefrontAccessTokenCreate", "fail_after")  # Shopify made it, the answer is lost
    assert "did not answer" in brand_read(shop.pk)
    shop.refresh_from_db()
    assert shop.storefront_token == "" and len(_tokens(devstore)) == 1
    assert brand_read(shop.pk) == "read"
    assert len(_tokens(devstore)) == 1  # adopted by its title
    shop.refresh_from_db()
    assert shop.storefront_token == _tokens(devstore)[0]["accessToken"]


def test_a_revoked_token_is_dropped_and_replaced(shop, devstore):  # noqa: F811
    brand_read(shop.pk)
    devstore.store.shop(DEMO)["storefront_tokens"] = []  # the merchant revoked it in Shopify
    assert "refused" in brand_read(shop.pk)
    shop.refresh_from_db()
    assert shop.storefront_token == ""
    assert brand_read(shop.pk) == "read" and len(_tokens(devstore)) == 1


def test_without_the_storefront_scope_nothing_is_asked_and_the_panel_says_what_to_do(devstore):  # noqa: F811
    shop = connected_shop(devstore, scopes="read_orders,read_products")
    assert "approve the update" in brand_read(shop.pk)
    shop.refresh_from_db()
    assert shop.shopify_logo_url == "" and "approve" in shop.brand_read_error and _tokens(devstore) == []


def test_the_merchants_choice_comes_before_shopifys_and_plain_type_after_both(db):
    shop = Shop.objects.create(domain="brand.myshopify.com", name="Brand Co")
    assert (shop_brand(shop).logo_url, shop_brand(shop).color) == ("", NEUTRAL)
    shop.shopify_logo_url, shop.shopify_brand_color = "https://cdn.example/logo.png", "#123456"
    assert (shop_brand(shop).logo_url, shop_brand(shop).color) == ("https://cdn.example/logo.png", "#123456")
    shop.brand_logo_url, shop.brand_color = "https://mine.example/l.png", "#000080"
    assert (shop_brand(shop).logo_url, shop_brand(shop).color) == ("https://mine.example/l.png", "#000080")


@pytest.mark.parametrize("colour", ["#ffd700", "#ffffff", "#7fffd4", "#ff6600", "#2f6f4e", "#000000"])
def test_any_colour_becomes_one_white_text_reads_on_and_that_reads_on_white(colour):
    kept = readable(colour)
    assert contrast(_rgb(kept), (255, 255, 255)) >= 4.5
    if contrast(_rgb(colour), (255, 255, 255)) >= 4.5:
        assert kept == colour  # a colour that already reads is left alone


def test_uninstall_forgets_the_token_shopify_revoked(shop):
    Shop.objects.filter(pk=shop.pk).update(storefront_token="tok")
    brand_uninstalled(shop)
    shop.refresh_from_db()
    assert shop.storefront_token == ""


@pytest.mark.parametrize("colour", ["#2f6f4e", "#000080", "#303030", "#8e1f0b"])
def test_a_link_in_the_brand_colour_stays_readable_in_dark_mode(colour):
    from shopapp.branding import DARK_CARD, lighter_until_readable

    assert contrast(_rgb(lighter_until_readable(readable(colour), DARK_CARD)), _rgb(DARK_CARD)) >= 4.5
