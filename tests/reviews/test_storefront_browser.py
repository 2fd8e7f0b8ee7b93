"""The storefront widget in a real browser: devstore's product page with Advocate's theme blocks,
loading through devstore's app proxy from the live server."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser import accessibility_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DEMO = "demo-outfitters.myshopify.com"
PLACES = ["Alpine", "Beacon", "Cedar", "Delta", "Elk", "Fern", "Granite", "Harbor", "Iris", "Juniper", "Kestrel", "Lake"]


@pytest.fixture
def storefront(live_server, tmp_path, settings):
    """devstore pointed at the live server, Trail Mug's page with both Advocate blocks, and 12 reviews of it."""
    from devstore import theme
    from devstore.server import start
    from reviews.services import review_create, review_reply
    from tests.conftest import _make_shop

    settings.APP_URL = live_server.url  # pages through the proxy load Advocate's own files from here
    store = start(port=0, app_url=live_server.url, api_key=settings.SHOPIFY_API_KEY,
                  api_secret=settings.SHOPIFY_API_SECRET, data_dir=str(tmp_path), smtp_port=None)
    store.seed()
    for handle in ("star-badge", "reviews"):
        theme.add_block(store.store.shop(DEMO)["theme"], handle)
    product = store.store.product(DEMO, "trail-mug")
    shop = _make_shop(DEMO)
    now = timezone.now()
    for i in range(12):
        review = review_create(shop=shop, product_id=product["id"], product_title="Trail Mug", rating=5 - i % 5,
                               title=f"Mug review {i}", body=f"Kept my coffee warm on the {PLACES[i]} trail.",
                               display_name=f"Shopper {i}", incentivized=i == 1)
        from reviews.models import Review

        Review.objects.filter(pk=review.pk).update(created_at=now - timedelta(hours=i))
    review_reply(review=Review.objects.get(title="Mug review 0"), text="Glad it kept up!", actor="owner")
    from reviews.services import product_rating_refresh

    product_rating_refresh(shop=shop, product_id=product["id"])
    store.shop_record = shop  # for tests that write Shopify's copy of the product
    pages_by_url[f"{store.url}/shops/{DEMO}/products/trail-mug"] = store
    yield f"{store.url}/shops/{DEMO}/products/trail-mug"
    store.stop()


pages_by_url: dict = {}


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_product_page_shows_badge_and_reviews_and_sorting_reloads_the_widget(storefront, open_page, width):
    page = open_page(storefront, width)
    widget = page.locator("[data-advocate-widget=reviews]")
    widget.get_by_text("out of 5 · 12 reviews").wait_for()
    assert page.locator(".advocate-badge").get_by_role("link").inner_text().replace("\n", " ").startswith("★★★☆☆ 3.3")
    assert widget.locator(".advocate-review").count() == 10
    assert widget.locator(".advocate-title").first.inner_text() == "Mug review 0"
    assert widget.get_by_text("Reply from Demo Outfitters").is_visible()
    assert widget.get_by_text("Incentivized").is_visible()
    rated = _one_product(page)
    assert rated["aggregateRating"]["reviewCount"] == 12 and len(rated["review"]) == 10
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"storefront-widget-{width}")

    widget.get_by_role("link", name="Lowest rating").click()
    page.wait_for_function("document.querySelector('.advocate-title').textContent === 'Mug review 4'")
    assert widget.locator("[aria-current=true]").inner_text() == "Lowest rating"
    widget.get_by_role("link", name="Next").click()
    widget.get_by_text("Page 2 of 2").wait_for()
    assert widget.locator(".advocate-review").count() == 2
    assert page.url == storefront  # the widget reloaded in place
    assert len(_one_product(page)["review"]) == 2  # the loaded page's reviews, still in the one Product


def test_rendered_from_the_metafields_the_page_asks_advocate_nothing_until_the_shopper_sorts(storefront, open_page):
    from tests.reviews.test_theme_blocks import metafields_written

    store = pages_by_url[storefront]
    product = store.store.product(DEMO, "trail-mug")
    metafields_written(store.store, store.shop_record, product["id"])
    page = open_page(storefront, "phone")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/apps/advocate/" in request.url else None)
    page.wait_for_load_state("load")
    widget = page.locator("[data-advocate-widget=reviews]")
    assert widget.get_attribute("data-advocate-rendered") is not None
    widget.get_by_text("out of 5 · 12 reviews").wait_for()
    assert page.locator(".advocate-badge").inner_text().startswith("★★★☆☆ 3.3")
    page.wait_for_function("window.advocateScript && document.querySelector('[data-advocate-loaded]')")
    assert asked == []  # the badge, the summary and the first page came from Shopify's copy
    assert _one_product(page)["aggregateRating"]["reviewCount"] == 12
    screenshot(page, "storefront-widget-from-metafields-phone")

    widget.get_by_role("link", name="Lowest rating").click()  # the script, loaded after the page, takes over
    page.wait_for_function("document.querySelector('.advocate-title').textContent === 'Mug review 4'")
    assert page.url == storefront and len(asked) == 1 and "sort=lowest" in asked[0]
    assert len(_one_product(page)["review"]) == 10 and page.console_errors == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_without_javascript_the_link_opens_the_full_reviews_page(storefront, open_page, width):
    page = open_page(storefront, width, javascript=False)
    page.get_by_role("link", name="Read the reviews of Trail Mug").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Reviews of Trail Mug").is_visible()
    assert page.locator(".advocate-review").count() == 10
    page.get_by_role("link", name="Next").click()
    page.wait_for_load_state()
    assert page.get_by_text("Page 2 of 2").is_visible()
    screenshot(page, f"storefront-reviews-page-nojs-{width}")

    # Layout and accessibility are measured by scripts, so check the same page with them on.
    checked = open_page(page.url, width)
    assert checked.get_by_text("Page 2 of 2").is_visible()
    assert checked.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(checked) == []


def _one_product(page) -> dict:
    """The page's JSON-LD describes one Product (the theme's and the block's share its @id); the one
    the block wrote carries the rating, and the fragment's own copy was folded into it."""
    markup = page.evaluate("""() => [...document.querySelectorAll('script[type="application/ld+json"]')]
        .map(s => JSON.parse(s.textContent))""")
    assert {m["@type"] for m in markup} == {"Product"} and len({m["@id"] for m in markup}) == 1
    rated = [m for m in markup if "aggregateRating" in m]
    assert len(rated) == 1
    return rated[0]


def _photo(color) -> "object":
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from reviews.photos import photo_clean

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), color).save(out, "JPEG")
    return photo_clean(SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg"))


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_review_photos_open_in_a_lightbox_that_keys_and_swipes_move_through(storefront, open_page, width):
    from reviews.services import review_create

    store = pages_by_url[storefront]
    product = store.store.product(DEMO, "trail-mug")
    review_create(shop=store.shop_record, product_id=product["id"], product_title="Trail Mug", rating=5,
                  title="Photos from the trail", body="Two shots from the weekend.", display_name="Pia",
                  photos=[_photo((40, 90, 160)), _photo((200, 120, 30))])
    page = open_page(storefront, width)
    widget = page.locator("[data-advocate-widget=reviews]")
    widget.get_by_text("out of 5 · 13 reviews").wait_for()
    page.wait_for_function("document.querySelector('[data-advocate-loaded]')")
    first = widget.get_by_role("link", name="Photo 1 from Pia")
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    first.click()
    dialog = page.get_by_role("dialog", name="Review photos")
    dialog.wait_for()
    assert dialog.get_by_text("Photo 1 of 2 · from Pia").is_visible()
    page.wait_for_function("document.querySelector('.advocate-lightbox img').naturalWidth === 1200")
    assert "size=large" in dialog.locator("img").get_attribute("src")
    screenshot(page, f"storefront-lightbox-{width}")
    assert accessibility_violations(page) == []
    page.keyboard.press("ArrowRight")
    assert dialog.get_by_text("Photo 2 of 2 · from Pia").is_visible()
    page.keyboard.press("ArrowRight")  # round to the first again
    assert dialog.get_by_text("Photo 1 of 2").is_visible()
    # A swipe to the left shows the next photo.
    page.mouse.move(300, 400)
    page.mouse.down()
    page.mouse.move(150, 400)
    page.mouse.up()
    assert dialog.get_by_text("Photo 2 of 2").is_visible()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-label') || document.activeElement.querySelector('img').alt") \
        == "Photo 1 from Pia"  # focus is back where the shopper was
    assert first.bounding_box() == box  # opening and closing moved nothing on the page
    assert page.console_errors == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_shopper_reports_a_review_from_the_product_page(storefront, open_page, width):
    from reviews.models import Review, ReviewReport

    page = open_page(storefront, width)

    def with_cors(route):  # WhiteNoise sends Advocate's static files with CORS in production; the test server does not
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "access-control-allow-origin": "*"})

    page.route("**/static/**", with_cors)
    widget = page.locator("[data-advocate-widget=reviews]")
    widget.get_by_text("out of 5 · 12 reviews").wait_for()
    widget.get_by_role("link", name="Report this review by Shopper 0").click()
    page.get_by_role("heading", name="Report a review").wait_for()
    assert page.get_by_text("Mug review 0").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.console_errors == []  # the page's own stylesheets loaded from Advocate
    assert accessibility_violations(page) == []
    screenshot(page, f"storefront-report-{width}")
    page.get_by_role("button", name="Send report").click()
    assert page.get_by_role("alert").inner_text() == "Choose what is wrong with the review."
    page.get_by_label("Not about the product").check()
    page.get_by_role("button", name="Send report").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    report = ReviewReport.objects.get()
    assert report.reason == "unrelated" and report.review.title == "Mug review 0"
    assert Review.objects.get(title="Mug review 0").status == Review.Status.PUBLISHED
    page.get_by_role("link", name="Back to the reviews").click()
    page.wait_for_load_state()
    # Only the refused send was logged (a 400, as every refused form here answers).
    assert [e for e in page.console_errors if "status of 400" not in e] == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_all_reviews_page_in_the_shops_theme(storefront, open_page, width):
    page = open_page(storefront, width)
    widget = page.locator("[data-advocate-widget=reviews]")
    widget.get_by_text("out of 5 · 12 reviews").wait_for()
    page.goto(storefront.replace("/products/trail-mug", "/apps/advocate/reviews"))
    page.get_by_role("heading", name="Reviews of Demo Outfitters").wait_for()
    assert page.get_by_text("out of 5 · 12 reviews of all our products").is_visible()
    assert page.locator(".advocate-review").count() == 10
    assert page.locator(".advocate-product").first.inner_text() == "Trail Mug"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    screenshot(page, f"storefront-all-reviews-{width}")
    page.get_by_role("link", name="Next").click()
    page.get_by_text("Page 2 of 2").wait_for()
