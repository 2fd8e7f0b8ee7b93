"""The home page's reviews carousel in a real browser: devstore's storefront renders the block from
the shop's featured reviews, which Advocate's sync wrote into devstore as it would into Shopify."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser import accessibility_violations, artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DEMO = "demo-outfitters.myshopify.com"
REVIEWS = [  # product, stars, title, words, reviewer, photo colour
    ("Trail Mug", 5, "Still hot at the summit", "Filled it at six, drank it warm at the top at ten. The lid "
     "seals properly and the enamel has survived two falls onto granite.", "Maya R.", (180, 83, 9)),
    ("Canvas Backpack", 5, "Carried it across Scotland", "Eleven days of rain and everything inside stayed dry. "
     "The hip belt is what makes it: no sore shoulders, even with the tent strapped on.", "Liam C.", None),
    ("Merino Beanie", 4, "", "Warm without being itchy, and it survived the washing machine. Runs a little "
     "small, so size up if you are between sizes.", "Ava P.", (29, 78, 216)),
    ("Camp Blanket", 5, "Our favourite picnic blanket", "Thick, soft and the waterproof back means we sit on "
     "wet grass without a second thought. Folds small enough for the car door pocket.", "Noah O.", None),
    ("Trail Mug", 4, "Good mug, lid is stiff", "Keeps coffee hot for hours. The lid takes some force to open "
     "at first, it loosened up after a week of use.", "Zoe M.", None),
    ("Enamel Pin Set", 5, "Lovely little gift", "Bought these for my hiking group, everyone wears them on "
     "their packs now. Bright colours and solid clasps.", "Sam K.", (109, 40, 217)),
    ("Canvas Backpack", 5, "", "Third year with it and the stitching is still perfect.", "Ines G.", None),
    ("Merino Beanie", 5, "Best hat I own", "Light enough for running in the cold, warm enough for the ski "
     "lift. Five stars.", "Tom B.", None),
]


@pytest.fixture
def home(live_server, tmp_path, settings):
    """devstore pointed at the live server, Advocate installed, the carousel added to the home page as
    the theme editor does it, and eight reviews written into Shopify's copy by the sync."""
    from shopapp import shopify

    store, shop = synced_devstore(live_server, tmp_path, settings, [("reviews-carousel", "index", "newAppsSection")])
    products = reviews_written(store, shop, REVIEWS)
    # The last change is the one each sync (queued after every commit) writes; one more makes the dates count.
    from reviews.services import product_rating_refresh

    product_rating_refresh(shop=shop, product_id=products["Trail Mug"])
    yield f"{store.url}/shops/{DEMO}/"
    store.stop()
    shopify.set_http_client(None)


def synced_devstore(live_server, tmp_path, settings, blocks: list[tuple[str, str | None, str]]):
    """devstore pointed at the live server, the blocks (handle, template, target) placed as the theme
    editor does it, and Advocate installed with the scopes its metafield sync needs: (store, shop)."""
    from devstore import theme
    from devstore.server import start
    from shopapp import shopify
    from tests.money.conftest import connected_shop
    from tests.reviews.test_metafields import SCOPES

    settings.APP_URL = live_server.url
    store = start(port=0, app_url=live_server.url, api_key=settings.SHOPIFY_API_KEY,
                  api_secret=settings.SHOPIFY_API_SECRET, data_dir=str(tmp_path), smtp_port=None)
    store.seed()
    settings.SHOPIFY_UPSTREAM_URL = store.url
    shopify.set_http_client(None)
    for handle, template, target in blocks:
        theme.add_block(store.store.shop(DEMO)["theme"], handle, template, target)
    return store, connected_shop(store, SCOPES)


def reviews_written(store, shop, reviews, *, incentivized: tuple[int, ...] = ()) -> dict[str, int]:
    """The reviews (product, stars, title, words, reviewer, photo colour), newest first, three days apart;
    returns the shop's product ids by title."""
    from reviews.models import Review
    from reviews.photos import CleanPhoto
    from reviews.services import review_create

    products = {p["title"]: p["id"] for p in store.store.shop(DEMO)["products"].values()}
    now = timezone.now()
    for n, (title, stars, heading, words, name, colour) in enumerate(reviews):
        photos = [_photo(colour)] if colour else []
        review = review_create(shop=shop, product_id=products[title], product_title=title, rating=stars,
                               title=heading, body=words, display_name=name, incentivized=n in incentivized,
                               photos=[CleanPhoto(data=p[0], width=p[1], height=p[2]) for p in photos])
        Review.objects.filter(pk=review.pk).update(created_at=now - timedelta(days=3 * n),
                                                   published_at=now - timedelta(days=3 * n))
    return products


def _photo(colour) -> tuple[bytes, int, int]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((420, 220, 780, 580), fill=tuple(min(255, c + 90) for c in colour))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue(), 1200, 900


LAYOUT_SHIFT = """() => new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(total), 300);
})"""


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_home_pages_carousel_moves_by_keyboard_and_stops_at_its_ends(home, open_page, width):
    page = open_page(home, width)
    carousel = page.get_by_role("region", name="What our customers say")
    carousel.wait_for()
    cards = carousel.locator(".advocate-card")
    assert cards.count() == 8
    assert cards.first.get_by_role("heading").inner_text() == "Still hot at the summit"  # newest first
    assert carousel.get_by_text("4.8 out of 5 · 8 reviews").is_visible()
    page.wait_for_function("document.querySelector('[data-advocate-controls][data-ready]')")
    previous = carousel.get_by_role("button", name="Previous reviews")
    following = carousel.get_by_role("button", name="Next reviews")
    assert previous.is_disabled() and following.is_enabled()
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    assert page.evaluate(LAYOUT_SHIFT) == 0  # the stylesheet came first, images kept their room, buttons too
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert accessibility_violations(page) == []
    carousel.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('.advocate-carousel img')].slice(0, 6).every(i => i.complete)")
    carousel.screenshot(path=str(artifacts_dir() / f"storefront-carousel-{width}.png"))

    following.focus()
    firsts = [_first_visible(page)]
    while following.is_enabled():
        page.keyboard.press("Enter")
        firsts.append(_first_visible(page))
        assert len(firsts) < 10
    # A page of whole cards a press: one card on a phone (the next one peeks in), four on a desktop.
    assert firsts == (list(range(8)) if width == "phone" else [0, 4])
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Previous reviews"  # not lost
    while previous.is_enabled():
        page.keyboard.press("Enter")
        _first_visible(page)
    assert _first_visible(page) == 0 and following.is_enabled()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Next reviews"
    assert page.console_errors == []


def _first_visible(page) -> int:
    """Once the (smooth) scroll has come to rest: the index of the first card fully in view."""
    return page.evaluate("""() => new Promise(done => {
        const list = document.querySelector('.advocate-carousel-list');
        let last = null;
        const tick = () => {
            if (list.scrollLeft === last) {
                done([...list.children].findIndex(card => card.offsetLeft - list.offsetLeft >= Math.abs(last) - 1));
            } else { last = list.scrollLeft; setTimeout(tick, 150); }
        };
        setTimeout(tick, 50);
    })""")


def test_a_card_opens_its_product_and_motion_follows_the_shoppers_setting(home, open_page, browser):
    page = open_page(home, "desktop")
    page.emulate_media(reduced_motion="reduce")
    page.wait_for_function("document.querySelector('[data-advocate-controls][data-ready]')")
    list_ = page.locator(".advocate-carousel-list")
    page.get_by_role("button", name="Next reviews").click()
    assert page.evaluate("document.querySelector('.advocate-carousel-list').scrollLeft") > 0  # at once: no animation
    # A swipe that stops between two cards settles on a card's edge (scroll snapping).
    page.evaluate("document.querySelector('.advocate-carousel-list').scrollLeft = 0")
    list_.hover()
    page.mouse.wheel(120, 0)
    page.wait_for_timeout(600)
    step = page.evaluate("""() => { const c = document.querySelector('.advocate-carousel-list').children;
        return c[1].offsetLeft - c[0].offsetLeft; }""")
    assert page.evaluate("document.querySelector('.advocate-carousel-list').scrollLeft") in (0, step)
    # The whole card is its product's link.
    card = page.locator(".advocate-card").nth(1)
    assert card.get_by_role("link").inner_text() == "Canvas Backpack"
    box = card.locator(".advocate-card-text").bounding_box()
    page.evaluate("document.querySelector('.advocate-carousel-list').scrollLeft = 0")
    page.mouse.click(box["x"] + 20, box["y"] + 10)
    page.wait_for_url("**/products/canvas-backpack")
    page.go_back()
    page.get_by_role("link", name="See all reviews").click()
    page.get_by_role("heading", name="Reviews of Demo Outfitters").wait_for()
    assert page.console_errors == []
