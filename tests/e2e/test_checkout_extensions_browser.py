"""Advocate where the buyer already is, in a real browser against devstore and Advocate as processes:
the merchant places the block from the panel's link into the checkout editor; Maya checks out and
finds her link on the thank-you page; a friend buys with it and her Refer friends page shows the
credit; once her order is delivered, the order status page's stars open the review form; a guest
is told their link comes by email; 지민, who buys in Korean, reads every block in Korean. Screenshots
at phone width, axe clean, no console errors."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import httpx
import pytest

from devstore.journeys.referrals import friend_checkout, program_save
from tests.browser import PHONE, accessibility_violations, screenshot
from tests.e2e.conftest import DEMO
from tests.e2e.harness import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

RENDERED = "[data-advocate-block][data-state=rendered]"
EXTENSIONS = Path(__file__).resolve().parents[2] / "extensions"


@pytest.fixture(scope="module")
def placed(installed):
    """The merchant follows each of the panel's checkout-editor links and adds the block there."""
    store = installed.store
    program_save(store, installed.app_url, DEMO)
    panel = httpx.get(store.app_url(DEMO, "/app/storefront/"), timeout=30)
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+/admin/settings/checkout/editor[^"]*)"', panel.text)]
    assert len(links) == 3, links
    for link in links:
        assert link.startswith(f"{store.url}/shops/{DEMO}/admin/settings/checkout/editor?page=")
        assert "not on this page yet" in httpx.get(link).text
        assert httpx.post(link, data={"on": "1"}).status_code == 303
    assert sorted(store.store.shop(DEMO)["checkout_blocks"]) == ["order-status", "profile", "thank-you"]
    return installed


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


def _log_in(page, store, email: str) -> None:
    page.goto(f"{store.url}/shops/{DEMO}/account/login")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/shops/{DEMO}/")


def _buy(page, store, product: str = "trail-mug") -> int:
    page.goto(f"{store.url}/shops/{DEMO}/products/{product}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r".*/orders/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _block_text(page, timeout: float = 40_000) -> str:
    page.locator(RENDERED).first.wait_for(state="attached", timeout=timeout)
    return page.locator(RENDERED).first.inner_text()


def _referral_state(stack, code: str) -> str | None:
    rows = stack.db("select r.status from referrals_referral r join referrals_advocate a on a.id = r.advocate_id "
                    "where a.code = ?", (code,))
    return rows[0][0] if rows else None


def test_the_thank_you_page_shares_her_link_and_a_friends_order_shows_as_credit(placed, phone):
    stack, store = placed, placed.store
    _log_in(phone, store, "maya@example.com")
    order_id = _buy(phone, store)

    # Her first order: the block waits for Advocate to make her code, then shows her link.
    text = _block_text(phone)
    assert "/apps/advocate/referrals/r/MAYA-" in phone.locator(f"{RENDERED} input").first.input_value(), text
    assert "10% off" in text and "$10.00" in text  # money as the buyer's language writes it
    screenshot(phone, "checkout-thank-you-referral-phone")
    assert accessibility_violations(phone) == []
    code = phone.locator(f"{RENDERED} input").first.input_value().rsplit("/", 1)[1]

    # A friend buys with it; after the hold (seconds here) Maya's credit is issued.
    friend = friend_checkout(store, stack.app_url, DEMO, code, first_name="Sam")
    wait_until(lambda: _referral_state(stack, code), what="the friend's order attributed to Maya")
    store.fulfil(DEMO, friend)
    wait_until(lambda: _referral_state(stack, code) == "issued", timeout=40, what="Maya's credit issued")

    phone.goto(f"{store.url}/shops/{DEMO}/account/pages/refer")
    text = _block_text(phone)
    assert "Sam" in text and "Credit earned" in text and "$10.00" in text
    screenshot(phone, "account-refer-friends-phone")
    assert accessibility_violations(phone) == []

    phone.goto(f"{store.url}/shops/{DEMO}/account")
    _block_text(phone)
    assert code in phone.locator(f"{RENDERED} input").first.input_value()
    screenshot(phone, "account-profile-block-phone")
    phone.locator(RENDERED).get_by_role("link", name="See your friends and credit").click()
    phone.get_by_role("heading", name="Refer friends").wait_for()
    assert phone.console_errors == []
    assert order_id


def test_after_delivery_the_order_status_page_takes_her_to_the_review_form(placed, phone):
    store = placed.store
    _log_in(phone, store, "liam.chen@example.com")
    order_id = _buy(phone, store, "camp-blanket")
    phone.goto(f"{store.url}/shops/{DEMO}/account/orders/{order_id}")
    assert "Review your items" not in _block_text(phone)  # not delivered yet

    store.fulfil(DEMO, order_id)
    store.deliver(DEMO, order_id)
    def stars_shown() -> bool:
        phone.reload()
        return "Review your items" in _block_text(phone)
    wait_until(stars_shown, timeout=40, what="the review row on the order status page")
    screenshot(phone, "account-order-status-review-phone")
    assert accessibility_violations(phone) == []

    phone.get_by_role("link", name=re.compile("5 of 5 stars")).first.click()
    phone.wait_for_url(re.compile(r".*/reviews/r/.*rating=5"))
    assert phone.locator("input[type=radio][value='5']:checked").count() == 1
    phone.locator("textarea").first.fill("Warm and soft; we take it camping every weekend.")
    phone.get_by_role("button", name="Post my review").click()
    phone.get_by_role("heading", name="Thank you for your review").wait_for()

    phone.goto(f"{store.url}/shops/{DEMO}/account/orders/{order_id}")
    text = _block_text(phone)
    assert "Review your items" not in text and "Thank" in text
    assert phone.console_errors == []


def test_a_guest_is_told_their_link_comes_by_email(placed, phone):
    store = placed.store
    phone.goto(f"{store.url}/shops/{DEMO}/products/trail-mug")
    phone.get_by_role("button", name="Add to cart").click()
    phone.get_by_role("button", name="Place order").click()
    phone.wait_for_url(re.compile(r".*/orders/\d+$"))
    text = _block_text(phone)
    assert "email" in text.lower() and "/referrals/r/" not in phone.content()
    screenshot(phone, "checkout-thank-you-guest-phone")
    assert phone.console_errors == []


def _words(extension: str, language: str) -> dict:
    name = "en.default.json" if language == "en" else f"{language}.json"
    return json.loads((EXTENSIONS / extension / "locales" / name).read_text(encoding="utf-8"))


def _no_english(text: str, *english: str) -> None:
    for words in english:
        assert words not in text, words


def test_a_korean_buyer_reads_every_block_in_korean(placed, phone):
    """The words of the extensions' own locale files (locales/ko.json), none of the English ones. What
    Advocate writes into its answer (the offer, the reward, money, share labels) is Advocate's to translate."""
    store = placed.store
    ko, en = _words("advocate-checkout", "ko"), _words("advocate-checkout", "en")
    ko_page, en_page = _words("advocate-account", "ko"), _words("advocate-account", "en")
    _log_in(phone, store, "jimin@example.com")
    order_id = _buy(phone, store, "camp-blanket")
    assert store.store.order(DEMO, str(order_id))["customer_locale"] == "ko-KR"

    # The thank-you page: her link, labelled, copied and shared in Korean.
    text = _block_text(phone)
    assert phone.locator(RENDERED).first.get_attribute("lang") == "ko"
    phone.get_by_label(ko["referral"]["link_label"]).wait_for(timeout=40_000)
    text = phone.locator(RENDERED).first.inner_text()
    assert text.startswith("친구에게 ") and ko["referral"]["more_ways"] in text
    assert phone.get_by_role("list", name=ko["referral"]["share_label"]).count() == 1
    _no_english(text, en["referral"]["link_label"], en["referral"]["more_ways"], "Give a friend", "When they order")
    phone.locator(RENDERED).get_by_role("button", name=ko["referral"]["copy"]).click()
    phone.get_by_text(ko["referral"]["copied"]).wait_for()
    screenshot(phone, "checkout-thank-you-korean-phone")
    assert accessibility_violations(phone) == []

    # Delivered: the order status page's review row and its stars' labels are Korean.
    store.fulfil(DEMO, order_id)
    store.deliver(DEMO, order_id)

    def review_row() -> bool:
        phone.goto(f"{store.url}/shops/{DEMO}/account/orders/{order_id}")
        return ko["review"]["heading"] in _block_text(phone)

    wait_until(review_row, timeout=40, what="the Korean review row on the order status page")
    text = _block_text(phone)
    assert ko["review"]["prompt"] in text and ko["review"]["open_form"] in text
    _no_english(text, en["review"]["heading"], en["review"]["prompt"], en["review"]["open_form"])
    assert phone.get_by_role("link", name=ko["review"]["star"].replace("{{rating}}", "5")).count() == 1
    screenshot(phone, "account-order-status-korean-phone")
    assert accessibility_violations(phone) == []

    # Her account: the profile block, then the Refer friends page its link opens, both Korean.
    phone.goto(f"{store.url}/shops/{DEMO}/account")
    text = _block_text(phone)
    assert ko["credit"]["earned"] in text
    _no_english(text, en["credit"]["earned"], en["profile"]["see_all"])
    phone.locator(RENDERED).get_by_role("link", name=ko["profile"]["see_all"]).click()
    phone.get_by_role("heading", name=ko_page["page"]["title"], exact=True).wait_for()
    text = _block_text(phone)
    assert ko_page["referral"]["copy"] in text and ko_page["account"]["friends_ordered"] in text
    _no_english(phone.locator("main").inner_text(), en_page["page"]["title"], en_page["account"]["friends_ordered"],
                en_page["account"]["no_friends"])
    screenshot(phone, "account-refer-friends-korean-phone")
    assert accessibility_violations(phone) == []
    assert phone.console_errors == []
