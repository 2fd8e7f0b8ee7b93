from __future__ import annotations

import pytest
from django.conf import settings

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sent_request():
    from reviews.models import ReviewRequest
    from reviews.requests import review_request_schedule, review_requests_sweep
    from shopapp.orders import order_upsert
    from tests.conftest import _make_shop
    from tests.reviews.conftest import order_payload

    shop = _make_shop("owner-shop.myshopify.com")
    payload = {**order_payload(products=((1, "Trail Mug"), (2, "Camp Kettle"))), "fulfillment_status": "fulfilled"}
    order = order_upsert(shop=shop, payload=payload)
    review_request_schedule(order=order)
    review_requests_sweep(now=order.fulfilled_at + 15 * settings.ADVOCATE_DAY)
    return ReviewRequest.objects.get(order=order)


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("javascript", [True, False])
def test_reviewing_an_order_from_the_star_link(live_server, open_page, width, javascript, settings):
    from reviews.models import Review
    from reviews.requests import review_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = _sent_request()
    mug = request.items.get(title="Trail Mug")
    path = review_link(request).removeprefix(settings.APP_URL)
    page = open_page(f"{live_server.url}{path}?item={mug.pk}&rating=4", width, javascript=javascript)
    assert page.get_by_role("heading", name="How did we do?").is_visible()
    assert page.get_by_role("radio", name="4 stars").first.is_checked()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == [] if javascript else True
    page.get_by_role("button", name="Post my review").click()
    page.wait_for_load_state()
    # The kettle was left without stars but the mug was rated: only the mug is posted.
    assert page.get_by_role("heading", name="Thank you for your review").is_visible()
    assert Review.objects.get().product_title == "Trail Mug"
    # What happens next, and both ways on: edit, or back to the shop.
    back = page.get_by_role("link", name="Back to Owner Shop")
    assert back.is_visible() and back.get_attribute("href").endswith("/")
    screenshot(page, f"review-thanks-{width}-{'js' if javascript else 'nojs'}")
    page.get_by_role("link", name="Edit my review").click()
    page.wait_for_load_state()
    fieldset = page.get_by_role("group", name="Your rating for Camp Kettle")
    fieldset.locator("label").nth(3).click()  # second label from the end: 2 stars (labels run 5..1)
    page.get_by_label("Your review").nth(1).fill("Handle gets hot.")
    page.get_by_role("button", name="Save my review").click()
    page.wait_for_load_state()
    assert Review.objects.get(product_title="Camp Kettle").rating == 2
    screenshot(page, f"review-form-{width}-{'js' if javascript else 'nojs'}")


def test_errors_are_announced_and_input_kept(live_server, open_page, settings):
    from reviews.requests import review_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = _sent_request()
    path = review_link(request).removeprefix(settings.APP_URL)
    page = open_page(f"{live_server.url}{path}", "phone")
    page.get_by_label("Your review").first.fill("Forgot the stars")
    page.get_by_role("button", name="Post my review").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Choose a star rating to post this review.").is_visible()
    assert page.get_by_label("Your review").first.input_value() == "Forgot the stars"
    screenshot(page, "review-form-error-phone")
    assert accessibility_violations(page) == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_happy_reviewer_is_offered_their_link_on_the_thank_you_page(live_server, open_page, width, settings):
    from referrals.models import Advocate
    from reviews.requests import review_link
    from shopapp.models import Customer

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = _sent_request()
    customer = Customer.objects.get(shop=request.shop, shopify_id=9007199254740993)
    Advocate.objects.create(shop=request.shop, customer=customer, code="MAYA-7K2Q",
                            code_state=Advocate.CodeState.CREATED)
    mug = request.items.get(title="Trail Mug")
    path = review_link(request).removeprefix(settings.APP_URL)
    page = open_page(f"{live_server.url}{path}?item={mug.pk}&rating=5", width)
    page.get_by_role("button", name="Post my review").click()
    page.wait_for_load_state()
    offer = page.get_by_role("region", name="Know someone who'd like it too?")
    assert offer.get_by_label("Your link").input_value().endswith("/apps/advocate/referrals/r/MAYA-7K2Q")
    assert offer.get_by_role("link", name="Share it, and see what you've earned").is_visible()
    assert accessibility_violations(page) == [] and page.console_errors == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"review-thanks-referral-{width}")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_star_for_the_second_product_lands_on_it_ready_to_type(live_server, open_page, width, settings):
    import re
    from html import unescape

    from django.core import mail

    from reviews.requests import review_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = _sent_request()
    kettle = request.items.get(title="Camp Kettle")
    html = mail.outbox[-1].alternatives[0][0]
    star_link = next(unescape(h) for h in re.findall(r'href="([^"]+)"', html)
                     if f"item={kettle.pk}&amp;rating=2" in h)  # the email's second star for the kettle
    assert star_link.startswith(review_link(request))
    page = open_page(live_server.url + star_link.removeprefix(settings.APP_URL), width)
    fieldset = page.get_by_role("group", name="Your rating for Camp Kettle")
    assert fieldset.get_by_role("radio", name="2 stars").is_checked()
    assert page.evaluate("document.activeElement.name") == f"i{kettle.pk}-body"  # focus on its words...
    words = page.locator(f"#id_i{kettle.pk}-body").bounding_box()
    assert 0 <= words["y"] and words["y"] + words["height"] <= page.evaluate("window.innerHeight")  # ...in view
    assert page.get_by_role("group", name="Your rating for Trail Mug").get_by_role("radio", checked=True).count() == 0


def _jpeg_bytes(side: int = 300, color=(40, 90, 160)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), color).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_photo_picker_previews_removes_refuses_and_uploads_with_progress(live_server, open_page, width, settings):
    from reviews.models import Review
    from reviews.photos import MAX_BYTES, MAX_PHOTOS
    from reviews.requests import review_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = _sent_request()
    mug = request.items.get(title="Trail Mug")
    page = open_page(f"{live_server.url}{review_link(request).removeprefix(settings.APP_URL)}?item={mug.pk}&rating=5", width)
    picker = page.locator(f"#id_i{mug.pk}-photos")
    picker.set_input_files([
        {"name": "mug-front.jpg", "mimeType": "image/jpeg", "buffer": _jpeg_bytes()},
        {"name": "mug-side.jpg", "mimeType": "image/jpeg", "buffer": _jpeg_bytes(color=(200, 30, 30))},
    ])
    previews = page.get_by_role("list", name="Photos you chose").first
    assert previews.get_by_role("listitem").count() == 2
    assert page.get_by_text(f"2 of {MAX_PHOTOS} photos chosen.").is_visible()
    # Choosing more adds to them; a file that breaks a limit is named and left out, the rest stay.
    picker.set_input_files([
        {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"},
        {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"0" * (MAX_BYTES + 1)},
    ])
    alert = page.get_by_role("alert").filter(has_text="notes.pdf is not a JPEG, PNG or WebP photo")
    assert alert.is_visible() and "huge.jpg is larger than" in alert.inner_text()
    assert previews.get_by_role("listitem").count() == 2
    page.get_by_role("button", name="Remove mug-side.jpg").click()
    assert previews.get_by_role("listitem").count() == 1
    assert page.evaluate(f"document.querySelector('#id_i{mug.pk}-photos').files.length") == 1
    screenshot(page, f"review-form-photos-{width}")
    assert accessibility_violations(page) == []

    page.get_by_role("button", name="Post my review").click()
    page.get_by_role("heading", name="Thank you for your review").wait_for()
    review = Review.objects.get(product_title="Trail Mug")
    assert review.rating == 5 and review.photos.count() == 1
    assert page.console_errors == []
