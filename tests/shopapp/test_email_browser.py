"""Advocate's emails as a phone shows them: the shop's logo and colour read from Shopify (devstore),
product pictures beside stars big enough to tap, nothing wider than the screen, and dark mode
without unreadable text. Rendered in Chromium from the templates the senders use."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from shopapp.branding import brand_read
from shopapp.catalog import product_cards
from tests.browser import screenshot
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def branded(devstore):  # noqa: F811
    shop = connected_shop(devstore, scopes=",".join(settings.SHOPIFY_SCOPES))
    assert brand_read(shop.pk) == "read"
    shop.refresh_from_db()
    return shop


def _request_html(shop, devstore):  # noqa: F811
    mug, pack = (devstore.store.product(DEMO, h) for h in ("trail-mug", "canvas-backpack"))
    cards = product_cards(shop, [mug["id"], pack["id"]])
    products = [{"title": p["title"], "url": "#", "image": cards[p["id"]].image_url,
                 "stars": [(n, f"#rate-{n}") for n in range(1, 6)]} for p in (mug, pack)]
    return render_to_string("reviews/email/request.html", {
        "shop": shop, "body": "Hi Maya,\n\nHow is your order #1001 from Demo Outfitters? One tap on the stars is enough.",
        "products": products, "unsubscribe": "#unsubscribe", "incentive": ""})


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_review_request_reads_well_on_a_phone_in_light_and_dark(browser, branded, devstore, scheme):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme)
    page = context.new_page()
    page.set_content(_request_html(branded, devstore), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    logo = page.get_by_role("img", name="Demo Outfitters")
    assert logo.is_visible() and page.evaluate("(img) => img.naturalWidth > 0", logo.element_handle())
    pictures = page.locator("img[alt='']")
    assert pictures.count() == 2 and all(pictures.nth(i).evaluate("i => i.naturalWidth > 0") for i in range(2))
    stars = page.locator("a[title$='stars'], a[title$='star']")
    assert stars.count() == 10
    assert all(stars.nth(i).bounding_box()["width"] >= 32 and stars.nth(i).bounding_box()["height"] >= 32
               for i in range(10))  # big enough for a thumb
    body_colour = page.evaluate("getComputedStyle(document.querySelector('.card p')).color")
    card_colour = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert (body_colour, card_colour) == (("rgb(241, 242, 243)", "rgb(31, 33, 36)") if scheme == "dark"
                                          else ("rgb(31, 33, 36)", "rgb(255, 255, 255)"))
    screenshot(page, f"email-review-request-phone-{scheme}")
    context.close()


def test_a_referral_email_uses_the_shops_colour_for_its_button(browser, branded):
    html = render_to_string("referrals/email/credit_issued.html", {
        "shop": branded, "shop_name": branded.name, "first_name": "Maya", "amount": "10.00", "currency": "USD",
        "page": "#share", "unsubscribe": "#unsubscribe"})
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_content(html, wait_until="load")
    button = page.get_by_role("link", name="Share your link again")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(47, 111, 78)"  # devstore's #2f6f4e
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "email-credit-issued-phone")
    context.close()
