"""devstore's checkout and account pages give Advocate's extension blocks their locale files and the
buyer's locale, as Shopify gives a UI extension its translations: a Korean buyer's blocks read Korean.
(The browser side, the host picking the file and drawing the words, is in
tests/e2e/test_checkout_extensions_browser.py.)"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import httpx

from devstore import checkout_blocks
from devstore.checkout_blocks import extension_locales
from tests.devstore.test_devstore import DEMO, app_server, store  # noqa: F401  (fixtures)

EXTENSIONS = Path(__file__).resolve().parents[2] / "extensions"


def _blocks(page: str) -> list[dict]:
    """Each block on a page: its data-* attributes and the locale files it carries."""
    found = []
    for match in re.finditer(r"<section ([^>]*data-advocate-block[^>]*)>(.*?)</section>", page, re.S):
        attributes = {k: html.unescape(v) for k, v in re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1))}
        script = re.search(r'<script type="application/json" data-advocate-locales>(.*?)</script>', match.group(2), re.S)
        found.append({**attributes, "locales": json.loads(script.group(1))})
    return found


def test_each_block_carries_its_extensions_locale_files_with_english_as_the_default():
    checkout, account = extension_locales("advocate-checkout"), extension_locales("advocate-account")
    assert checkout["default"] == account["default"] == "en"
    assert sorted(checkout["files"]) == sorted(account["files"]) == ["de", "en", "es", "fr", "ja", "ko"]
    korean = json.loads((EXTENSIONS / "advocate-checkout" / "locales" / "ko.json").read_text(encoding="utf-8"))
    assert checkout["files"]["ko"] == korean
    assert "review" in checkout["files"]["en"] and "review" not in account["files"]["en"]
    assert account["files"]["ko"]["page"]["title"] == "친구 추천"


def test_a_korean_buyers_pages_give_the_blocks_her_locale(store):  # noqa: F811
    jimin = store.store.customer_by_email(DEMO, "jimin@example.com")
    order = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=jimin["id"])
    assert order["customer_locale"] == "ko-KR"
    for page in ("thank-you", "order-status", "profile"):
        store.checkout_block(DEMO, page)
    with httpx.Client(base_url=store.url, timeout=30) as browser:
        browser.post(f"/shops/{DEMO}/account/login", data={"email": "jimin@example.com"})
        [thanks] = _blocks(browser.get(f"/shops/{DEMO}/orders/{order['id']}").text)
        [status] = _blocks(browser.get(f"/shops/{DEMO}/account/orders/{order['id']}").text)
        account = browser.get(f"/shops/{DEMO}/account").text
        [profile] = _blocks(account)
        refer_link = html.unescape(re.search(r'<a href="([^"]*/account/pages/refer[^"]*)">', account).group(1))
        [refer] = _blocks(browser.get(refer_link).text)
    assert [b["surface"] for b in (thanks, status, profile, refer)] == ["thank-you", "order-status", "profile", "account"]
    assert thanks["locale"] == status["locale"] == profile["locale"] == "ko-KR"  # the order's, the customer's
    assert all(b["shop-locale"] == "en" for b in (thanks, status, profile, refer))
    assert thanks["locales"]["files"]["ko"]["referral"]["copy"] == "복사"
    assert refer["locales"]["files"]["ko"]["account"]["awaiting"] == {"other": "리뷰를 기다리는 상품 {{count}}개"}
    # The Refer friends page knows no buyer: the links to it say her language, as Shopify's do.
    assert refer_link.endswith("/account/pages/refer?locale=ko-KR") and refer["locale"] == ""
    assert profile["page-url"].endswith("/account/pages/refer?locale=ko-KR")


def test_an_english_buyers_block_says_english_and_the_order_decides_over_the_customer(store):  # noqa: F811
    maya = store.store.customer_by_email(DEMO, "maya@example.com")
    order = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=maya["id"], locale="de-DE")
    store.checkout_block(DEMO, "thank-you")
    [thanks] = _blocks(httpx.get(f"{store.url}/shops/{DEMO}/orders/{order['id']}", timeout=30).text)
    assert thanks["locale"] == "de-DE"


def test_no_translation_can_end_the_script_that_carries_it(store, monkeypatch):  # noqa: F811
    sneaky = {"default": "en", "files": {"en": {"referral": {"copy": "</script><script>alert(1)</script>"}}}}
    monkeypatch.setattr(checkout_blocks, "extension_locales", lambda extension: sneaky)
    page = checkout_blocks.block(store.store, DEMO, "thank-you", locale="en")
    assert "<script>alert" not in page
    assert _blocks(page)[0]["locales"] == sneaky
