from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, right_edge, screenshot
from tests.conftest import session_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_merchant_rejects_a_held_review_from_the_panel(live_server, open_page, width):
    from reviews.models import Review
    from reviews.services import review_create
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=5, title="Lovely", body="Great mug.")
    held = review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=4, title="Deal",
                         body="Cheaper at www.elsewhere.example")
    page = open_page(f"{live_server.url}/app/reviews/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Reviews", exact=True).is_visible()
    assert page.get_by_text("Contains a link").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-reviews-{width}")
    page.get_by_role("link", name="Deal").click()
    page.wait_for_url("**/app/reviews/*/**")
    assert page.get_by_text("Held because:").is_visible()
    # As Polaris groups them: Publish (primary) at the end, Reject (destructive) apart at the start.
    card = page.locator("#decide").locator("..")
    assert right_edge(page.get_by_role("button", name="Publish")) == pytest.approx(right_edge(card) - 16, abs=1)
    assert page.get_by_label("Reason").bounding_box()["x"] == pytest.approx(card.bounding_box()["x"] + 16, abs=1)
    screenshot(page, f"panel-review-decide-{width}")
    page.get_by_label("Reason").select_option("spam")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert Review.objects.get(pk=held.pk).status == Review.Status.REJECTED
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-review-detail-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_review_settings_page_renders_accessibly(live_server, open_page, width):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    page = open_page(f"{live_server.url}/app/reviews/settings/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("heading", name="Review settings").is_visible()
    # The email preview shows the email itself (its HTML escaped into the frame's srcdoc).
    preview = page.frame_locator("iframe.preview")
    assert preview.get_by_text("Your product").first.is_visible()
    assert preview.locator("a[title='5 stars']").count() == 1
    page.get_by_label("Days to wait", exact=True).fill("5")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    assert page.console_errors == []  # the favicon included: no 404 on any load
    screenshot(page, f"panel-review-settings-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_merchant_hides_a_photo_and_sees_it_greyed_with_unhide(live_server, open_page, width):
    from reviews.models import Review
    from reviews.services import review_create
    from tests.conftest import _make_shop
    from tests.reviews.test_storefront import _photo

    shop = _make_shop("owner-shop.myshopify.com")
    review = review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=5, title="Lovely",
                           photos=[_photo(), _photo()])
    page = open_page(f"{live_server.url}/app/reviews/{review.pk}/?id_token={session_token(shop.domain)}", width)
    assert page.get_by_role("button", name="Hide photo").count() == 2
    page.get_by_role("button", name="Hide photo").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("status").filter(has_text="Photo hidden.").is_visible()
    assert page.get_by_role("button", name="Unhide").is_visible()
    assert page.get_by_role("button", name="Hide photo").count() == 1
    opacity = page.locator(".photo-hidden img").evaluate("img => getComputedStyle(img).opacity")
    assert float(opacity) < 0.5
    assert Review.objects.get(pk=review.pk).status == Review.Status.PUBLISHED
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"panel-review-photo-hidden-{width}")
    page.get_by_role("button", name="Unhide").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Hide photo").count() == 2
