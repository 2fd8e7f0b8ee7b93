from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, screenshot
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MUG = 9007199254741301


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_writing_a_storefront_review_with_an_error_then_sending_it(live_server, open_page, width, settings):
    from reviews.models import ProductRating, Review, ReviewSettings
    from tests.conftest import _make_shop

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    shop = _make_shop("owner-shop.myshopify.com")
    ReviewSettings.objects.create(shop=shop, non_buyer_reviews=True)
    ProductRating.objects.create(shop=shop, product_id=MUG, product_title="Trail Mug")
    page = open_page(f"{live_server.url}/proxy/reviews/{MUG}/write?{signed_proxy_query(shop.domain)}", width)
    assert page.get_by_role("heading", name="Write a review of Trail Mug").is_visible()
    assert accessibility_violations(page) == []
    page.get_by_label("Your review", exact=True).fill("Keeps coffee hot for an hour.")
    page.get_by_label("Your email").fill("sam@example")
    page.get_by_role("button", name="Send my review").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Choose a star rating.").is_visible()
    assert page.get_by_label("Your review", exact=True).input_value() == "Keeps coffee hot for an hour."
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"nonbuyer-form-error-{width}")
    assert accessibility_violations(page) == []
    page.get_by_role("group", name="Your rating for Trail Mug (required)").locator("label").nth(1).click()  # 4 stars
    page.get_by_label("Your email").fill("sam@example.com")
    page.get_by_role("button", name="Send my review").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Check your email").is_visible()
    review = Review.objects.get()
    assert (review.rating, review.status, review.verified) == (4, Review.Status.UNCONFIRMED, False)
    screenshot(page, f"nonbuyer-form-sent-{width}")
