"""Which language a shopper reads, where Shopify says it, and dates and money as that language writes them."""
from __future__ import annotations

from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import translation

from shopapp.languages import (
    accept_language, date_format, datetime_format, language_of, list_format, money_format, percent_format,
    request_language, shopper_language,
)
from shopapp.models import Order
from shopapp.services import shop_sync_details
from tests.referrals.helpers import customer, order
from tests.reviews.conftest import order_payload

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize("locale, language", [
    ("ko-KR", "ko"), ("ko", "ko"), ("ja", "ja"), ("de-DE", "de"), ("de_AT", "de"), ("fr-Fr", "fr"), ("es-419", "es"),
    ("en-US", "en"), ("pt-BR", None), ("zh-TW", None), ("", None), (None, None),
])
def test_shopify_locales_map_to_the_launch_languages(locale, language):
    assert language_of(locale) == language


@pytest.mark.django_db
def test_the_order_language_comes_first_then_the_shops_then_english(shop):
    shop.primary_locale = "de"
    buyer = customer(shop, first_name="Jimin")
    assert shopper_language(shop, order=order(shop, buyer, customer_locale="ko-KR")) == "ko"
    # Portuguese is not a launch language: the shop's own, not an older order's, nor the browser's.
    assert shopper_language(shop, order=order(shop, buyer, customer_locale="pt-BR")) == "de"
    shop.primary_locale = ""
    assert shopper_language(shop, order=order(shop, buyer, customer_locale="pt-BR")) == "en"


@pytest.mark.django_db
def test_without_an_order_at_hand_the_customer_reads_the_language_of_their_latest_order(shop):
    buyer = customer(shop, first_name="Lukas")
    order(shop, buyer, customer_locale="en", placed_at=datetime(2026, 1, 5, tzinfo=dt_timezone.utc))
    order(shop, buyer, customer_locale="de-DE", placed_at=datetime(2026, 3, 5, tzinfo=dt_timezone.utc))
    order(shop, buyer, customer_locale="", placed_at=datetime(2026, 4, 5, tzinfo=dt_timezone.utc))
    assert shopper_language(shop, customer=buyer) == "de"
    # An order that names no language speaks its customer's latest.
    assert shopper_language(shop, order=Order(shop=shop, customer=buyer, customer_locale="")) == "de"


@pytest.mark.parametrize("header, language", [
    ("en-US,en;q=0.9,ko;q=0.8", "en"), ("pt-BR,ko;q=0.5", "ko"), ("ja;q=0, de", "de"), ("ko-KR", "ko"),
    ("pt", None), ("*", None), ("", None), ("fr;q=junk, es", "es"),
])
def test_the_browsers_accept_language_picks_the_launch_language_it_prefers(header, language):
    assert accept_language(header) == language


@pytest.mark.django_db
def test_a_page_without_a_person_speaks_lang_then_the_storefront_then_the_browser_then_the_shop(shop):
    factory = RequestFactory()
    assert request_language(factory.get("/r/X?lang=ja&locale=ko", HTTP_ACCEPT_LANGUAGE="de")) == "ja"
    assert request_language(factory.get("/r/X?locale=ko-KR", HTTP_ACCEPT_LANGUAGE="de")) == "ko"
    assert request_language(factory.get("/r/X", HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9")) == "de"
    request = factory.get("/r/X?lang=xx", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert request_language(request, fallback="es-ES") == "es"
    shop.primary_locale = "fr"
    request.shop = shop
    assert request_language(request) == "fr"
    assert request_language(factory.get("/r/X")) == "en"


@pytest.mark.parametrize("language, usd, krw, eur", [
    ("en", "$1,234.50", "₩10,000", "€9.99"),
    ("ko", "US$1,234.50", "₩10,000", "€9.99"),
    ("ja", "$1,234.50", "₩10,000", "€9.99"),
    ("de", f"1.234,50{NBSP}$", f"10.000{NBSP}₩", f"9,99{NBSP}€"),
    ("fr", f"1{NNBSP}234,50{NBSP}$US", f"10{NNBSP}000{NBSP}₩", f"9,99{NBSP}€"),
    ("es", f"1.234,50{NBSP}US$", f"10.000{NBSP}KRW", f"9,99{NBSP}€"),
])
def test_money_is_written_as_each_language_writes_it_in_the_shops_currency(language, usd, krw, eur):
    assert money_format(Decimal("1234.5"), "USD", language) == usd
    assert money_format(10000, "KRW", language) == krw  # the won has no minor unit
    assert money_format("9.99", "eur", language) == eur


@pytest.mark.parametrize("language, day, moment", [
    ("en", "5 Dec 2026", "5 Dec 2026, 14:05"),
    ("ko", "2026. 12. 5.", f"2026. 12. 5. 오후 2:05"),
    ("ja", "2026/12/05", "2026/12/05 14:05"),
    ("de", "05.12.2026", "05.12.2026, 14:05"),
    ("fr", "5 déc. 2026", "5 déc. 2026, 14:05"),
    ("es", "5 dic 2026", "5 dic 2026, 14:05"),
])
def test_dates_are_written_as_each_language_writes_them(language, day, moment, settings):
    settings.TIME_ZONE = "UTC"
    at = datetime(2026, 12, 5, 14, 5, tzinfo=dt_timezone.utc)
    assert date_format(at, language) == day
    assert datetime_format(at, language).replace(NNBSP, " ") == moment


def test_numbers_percentages_and_lists_follow_the_active_language():
    with translation.override("de"):
        assert percent_format(Decimal("12.5")) == f"12,5{NBSP}%"
        assert list_format(["Becher", "Decke"]) == "Becher und Decke"
    with translation.override("ko"):
        assert percent_format(15) == "15%"
        assert list_format(["머그", "담요"]) == "머그 및 담요"
    with translation.override("ja"):
        assert list_format(["マグ", "毛布", "帽子"]) == "マグ、毛布、帽子"


@pytest.mark.django_db
def test_the_orders_webhook_keeps_the_customers_locale_and_a_redaction_erases_it(post_webhook, shop):
    payload = {**order_payload(), "customer_locale": "ko-KR"}
    assert post_webhook("orders/create", payload, shop).status_code == 200
    stored = Order.objects.get(shopify_id=payload["id"])
    assert stored.customer_locale == "ko-KR"
    # A later topic without the field (an order fetched before the field was read) keeps it.
    post_webhook("orders/paid", {k: v for k, v in payload.items() if k != "customer_locale"}, shop)
    stored.refresh_from_db()
    assert stored.customer_locale == "ko-KR"
    post_webhook("customers/redact", {"shop_domain": shop.domain, "customer": {"id": payload["customer"]["id"]},
                                      "orders_to_redact": [payload["id"]]}, shop)
    stored.refresh_from_db()
    assert stored.customer_locale == ""


@pytest.mark.django_db
def test_the_shops_primary_locale_is_read_with_read_locales_and_not_asked_without_it(shop, fake_shopify):
    fake_shopify.responders["shopLocales"] = lambda v: [{"locale": "ko", "primary": True}]
    fake_shopify.valid_tokens[shop.domain] = shop.access_token
    shop.scopes = "read_orders,read_locales"
    shop.save()
    shop_sync_details(shop)
    assert shop.primary_locale == "ko"
    assert len(fake_shopify.calls_to("shopLocales")) == 1

    shop.scopes = "read_orders"  # installed before Advocate asked for read_locales
    shop.primary_locale = ""
    shop.save()
    shop_sync_details(shop)
    assert shop.primary_locale == "" and len(fake_shopify.calls_to("shopLocales")) == 1


@pytest.mark.django_db
def test_a_refusal_for_too_many_requests_is_in_the_readers_language(client):
    address = {"REMOTE_ADDR": "198.51.100.77", "HTTP_ACCEPT_LANGUAGE": "ko-KR"}  # an address of its own
    for _ in range(10):  # unknown referral codes: ten misses an hour per address
        client.get("/r/NOPE-0000", **address)
    refused = client.get("/r/NOPE-0000", **address)
    assert refused.status_code == 429
    assert refused.content.decode() == "요청이 너무 많아요. 60분 후에 다시 시도해 주세요."
