from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, right_edge, screenshot
from tests.money.conftest import devstore  # noqa: F401  (the devstore fixture, for its product pictures)

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


def _program_with_referrals():
    from decimal import Decimal

    from referrals.models import Click, Referral
    from tests.referrals.helpers import customer, order

    advocate = _advocate()
    shop = advocate.shop
    for name, status, reasons in [
        ("Sam", Referral.Status.ISSUED, []),
        ("Ana", Referral.Status.PENDING, []),
        ("Zed", Referral.Status.FLAGGED, [{"rule": "self_referral", "reason": "Self-referral: same phone number as the advocate."}]),
    ]:
        friend = customer(shop, first_name=name)
        friend.last_name = "Secretsurname"
        friend.save()
        Referral.objects.create(shop=shop, advocate=advocate, order=order(shop, friend, total="80.00"), friend=friend,
                                via=Referral.Via.CODE, status=status, fraud_reasons=reasons,
                                order_total=Decimal("80.00"), reward_amount=Decimal("10.00"), currency=shop.currency)
    Click.objects.create(shop=shop, advocate=advocate, ip_hash="x" * 32)
    return advocate


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_advocate_share_page_copies_the_link_and_fits_a_phone(live_server, open_page, width, settings):
    from referrals.sharing import share_token

    settings.APP_URL = live_server.url
    advocate = _program_with_referrals()
    page = open_page(f"{live_server.url}/referrals/me/{share_token(advocate)}", width)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    assert page.get_by_role("heading", name="Give 15% off your first order, get $10.00 in store credit").is_visible()
    assert page.get_by_label("Copy and send it anywhere").input_value() == f"{live_server.url}/r/MAYA-7K2Q"
    for name in ("WhatsApp (opens in a new tab)", "Text message", "Email", "X (opens in a new tab)",
                 "Facebook (opens in a new tab)"):
        assert page.get_by_role("link", name=name, exact=True).is_visible()
    friends = page.locator(".friends").inner_text()
    assert "Sam" in friends and "Ana" in friends and "Secretsurname" not in page.content()
    page.get_by_role("button", name="Copy link").click()
    assert page.get_by_role("status").inner_text() == "Link copied."
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/r/MAYA-7K2Q"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.get_by_role("link", name="Text message").bounding_box()["height"] >= 44
    screenshot(page, f"referral-share-{width}")
    assert accessibility_violations(page) == []


def test_share_page_works_without_javascript(live_server, open_page, settings):
    from referrals.sharing import share_token

    settings.APP_URL = live_server.url
    advocate = _advocate()
    page = open_page(f"{live_server.url}/referrals/me/{share_token(advocate)}", "phone", javascript=False)
    assert page.get_by_label("Copy and send it anywhere").input_value().endswith("/r/MAYA-7K2Q")
    assert page.get_by_role("button", name="Copy link").count() == 0  # hidden until the script can copy
    assert page.get_by_role("link", name="WhatsApp (opens in a new tab)").get_attribute("href").startswith("https://wa.me/?text=")


def test_bad_share_link_page_is_friendly_and_accessible(live_server, open_page):
    page = open_page(f"{live_server.url}/referrals/me/not-a-token", "phone")
    assert page.get_by_role("heading", name="This link does not work").is_visible()
    assert accessibility_violations(page) == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_merchant_reviews_a_flagged_referral_and_rejects_it(live_server, open_page, width):
    from referrals.models import Referral
    from tests.conftest import session_token

    advocate = _program_with_referrals()
    token = session_token(advocate.shop.domain)
    page = open_page(f"{live_server.url}/app/referrals/?id_token={token}", width)
    assert page.get_by_role("heading", name="Referrals", exact=True).is_visible()
    assert page.get_by_text("Self-referral: same phone number as the advocate.").is_visible()
    assert page.get_by_role("link", name="Referrals 1 open").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-referrals-{width}")
    flagged = Referral.objects.get(status=Referral.Status.FLAGGED)
    page.get_by_role("link", name=flagged.order.name).click()
    page.wait_for_url("**/app/referrals/*/**")
    assert page.get_by_text("Flagged by 1 rule.").is_visible()
    # As Polaris groups them: Approve (primary) at the end, Reject (destructive) apart at the start.
    approve, reject = page.get_by_role("button", name="Approve"), page.get_by_role("button", name="Reject")
    note, card = page.get_by_label("Note (optional, only you see it)"), page.locator("#decide").locator("..")
    assert right_edge(approve) == pytest.approx(right_edge(card) - 16, abs=1)  # the card's padding
    assert reject.bounding_box()["x"] == pytest.approx(note.bounding_box()["x"], abs=1)
    screenshot(page, f"panel-referral-decide-{width}")
    note.fill("Same household")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert "Referral rejected." in page.get_by_role("status").inner_text()
    assert Referral.objects.get(pk=flagged.pk).status == Referral.Status.REJECTED
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-referral-detail-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_referral_settings_show_errors_by_the_field_then_save(live_server, open_page, width):
    from referrals.models import ProgramSettings
    from tests.conftest import session_token

    advocate = _advocate()
    page = open_page(f"{live_server.url}/app/referrals/settings/?id_token={session_token(advocate.shop.domain)}", width)
    assert page.get_by_role("heading", name="Referral settings").is_visible()
    page.get_by_label("Advocate's reward", exact=True).select_option("percent")
    page.get_by_label("Text on the friend's landing page", exact=True).fill("Tea for friends")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Set the largest reward for a percent reward.").is_visible()
    # The field with the error is in view; money fields say their currency.
    cap = page.get_by_label("Largest reward per order (USD)")
    box, height = cap.bounding_box(), page.evaluate("window.innerHeight")
    assert 0 <= box["y"] and box["y"] + box["height"] <= height
    assert page.get_by_label("Reward amount (% or USD)").is_visible()
    assert page.get_by_label("Text on the friend's landing page", exact=True).input_value() == "Tea for friends"
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-referral-settings-error-{width}")
    page.get_by_label("Largest reward per order").fill("25")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Referral settings saved."
    program = ProgramSettings.objects.get(shop=advocate.shop)
    assert (program.reward_kind, program.reward_cap, program.landing_text) == ("percent", 25, "Tea for friends")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_dashboard_shows_the_referral_funnel(live_server, open_page, width):
    from tests.conftest import session_token

    advocate = _program_with_referrals()
    page = open_page(f"{live_server.url}/?id_token={session_token(advocate.shop.domain)}", width)
    section = page.get_by_role("region", name="Referrals")
    assert section.get_by_role("figure", name="Referral funnel").is_visible()
    cost = section.get_by_role("figure", name="Referred revenue and credit cost")
    assert cost.is_visible() and cost.locator(".bar-value").first.inner_text().endswith(" USD")
    assert "240.00 USD" in section.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-dashboard-referrals-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_friend_sees_the_shops_brand_and_a_few_of_its_best_sellers(live_server, open_page, width, settings, devstore):
    from shopapp.models import ProductCard, Shop

    advocate = _advocate()
    shop = advocate.shop
    pictures = f"{devstore.url}/shops/demo-outfitters.myshopify.com"
    Shop.objects.filter(pk=shop.pk).update(shopify_logo_url=f"{pictures}/brand/logo.svg", shopify_brand_color="#2f6f4e")
    for rank, (title, handle, price) in enumerate([("Merino Beanie", "merino-beanie", "32.00"),
                                                   ("Trail Mug", "trail-mug", "18.00"),
                                                   ("Canvas Backpack", "canvas-backpack", "89.00")]):
        ProductCard.objects.create(shop=shop, shopify_id=rank + 1, title=title, handle=handle, price=price,
                                   image_url=f"{pictures}/images/{handle}.jpg", featured_rank=rank,
                                   url=f"https://{shop.domain}/products/{handle}")
    ProductCard.objects.create(shop=shop, shopify_id=9, title="Draft Hat", featured_rank=3,
                               image_url=f"{pictures}/images/trail-mug.jpg")  # unpublished: no page to open
    settings.SHOPIFY_UPSTREAM_URL = live_server.url + "/devstore-stub"
    page = open_page(f"{live_server.url}/r/MAYA-7K2Q", width)
    assert page.locator(".shop-header img").evaluate("i => i.naturalWidth > 0")
    button = page.get_by_role("link", name="Shop with your discount")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(47, 111, 78)"
    picks = page.get_by_role("region", name="Popular at Owner Shop").get_by_role("link")
    assert [picks.nth(i).inner_text().split("\n")[0] for i in range(picks.count())] == [
        "Merino Beanie", "Trail Mug", "Canvas Backpack"]
    # Each goes through Maya's discount link to its product, so the discount comes along.
    assert picks.first.get_attribute("href").endswith("/discount/MAYA-7K2Q?redirect=/products/merino-beanie")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"referral-landing-branded-{width}")
    assert accessibility_violations(page) == []
