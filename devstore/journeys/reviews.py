"""The reviews journeys of the demo smoke run: `from devstore.demo import smoke_step, StepFailed, Demo, SHOP`.

A shopper's order is fulfilled in devstore; Advocate's review request reaches devstore's
mailbox; the shopper clicks a star in the email, finds that rating already chosen, adds a
title, a few words and a photo from their phone, and posts. The store's reviews page (the
app proxy, on the store's own domain) then shows the review, marked "Verified buyer", with
the photo's thumbnail. tests/e2e/test_reviews_journey.py runs the same journey and also
reads the database.
"""
from __future__ import annotations

import html
import io
import re
import uuid
from dataclasses import dataclass

import httpx
from PIL import ExifTags, Image, ImageDraw

from devstore.demo import SHOP, Demo, StepFailed, _wait, smoke_step
from devstore.server import PROXY_PREFIX, DevStore

REQUEST_SUBJECT = "How was your order"
PRODUCT = "camp-blanket"
PHOTO_SIZE = (1200, 900)
THUMB_SIDE = 320  # reviews.photos.THUMB_SIDE: the storefront shows thumbnails no larger than this


@dataclass
class ReviewJourney:
    email: str
    order_id: int
    product_id: int
    title: str
    rating: int
    photo: bytes  # what the shopper uploaded (with camera and GPS details)
    photo_url: str  # the photo as the store's reviews page links it
    thumbnail: bytes  # what that link served once the thumbnail job ran


def phone_photo() -> bytes:
    """A small JPEG as a phone takes it: the camera's make and model and where it was taken, in EXIF."""
    image = Image.new("RGB", PHOTO_SIZE, (180, 120, 60))
    ImageDraw.Draw(image).rectangle((200, 150, 1000, 750), fill=(40, 90, 160))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "DevCam"
    exif[ExifTags.Base.Model] = "Journey One"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (45.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "W", (122.0, 40.0, 30.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _request_email(store: DevStore, email: str) -> dict | None:
    found = [m for m in store.mailbox() if email in m["to"] and REQUEST_SUBJECT in m["subject"]]
    return found[0] if found else None


def _star_link(message: dict, rating: int) -> str:
    """The email's link behind the n-th star (the HTML part: the text part has one link per product)."""
    links = [html.unescape(href) for href in re.findall(r'href="([^"]+)"', message["html"] or "")]
    starred = [link for link in links if "/reviews/r/" in link and link.endswith(f"&rating={rating}")]
    if not starred:
        raise StepFailed(f"the review request email has no {rating}-star link")
    return starred[0]


def _chosen_stars(form: str) -> tuple[str, list[str]]:
    """The product's field prefix on the review page and the star values shown as chosen."""
    radios = re.findall(r'<input type="radio" name="(i\d+)-rating" value="(\d)"[^>]*?>', form)
    if not radios:
        raise StepFailed("the review page shows no product to rate")
    prefix = radios[0][0]
    checked = re.findall(rf'<input type="radio" name="{prefix}-rating" value="(\d)"[^>]*\schecked>', form)
    return prefix, checked


def _post_review(page_url: str, prefix: str, fields: dict, photo: bytes) -> httpx.Response:
    """Post the form as a browser does with a file chosen: multipart, the photo under the product's prefix."""
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    files = {f"{prefix}-photos": ("blanket.jpg", photo, "image/jpeg")}
    return httpx.post(page_url, data=data, files=files, timeout=30)


def _storefront_review(store: DevStore, domain: str, product_id: int, title: str) -> str:
    """The store's reviews page for the product (through the app proxy): the list item of this review."""
    page = httpx.get(f"{store.url}/shops/{domain}{PROXY_PREFIX}/reviews/{product_id}", timeout=30)
    if page.status_code != 200:
        return ""
    items = re.findall(r'<li class="advocate-review">(.*?)</li>', page.text, re.S)
    return next((item for item in items if html.escape(title) in item), "")


def _served_size(url: str) -> tuple[int, int] | None:
    response = httpx.get(url, timeout=30)
    if response.status_code != 200 or response.headers.get("content-type") != "image/jpeg":
        return None
    with Image.open(io.BytesIO(response.content)) as image:
        return image.size


def review_journey(store: DevStore, domain: str = SHOP, *, rating: int = 4, timeout: float = 90) -> ReviewJourney:
    """An order is fulfilled, the request email arrives, a star click pre-fills the form, the shopper posts
    a review with a photo, and the store's reviews page shows it as a verified buyer's, with a thumbnail."""
    email = f"iris.{uuid.uuid4().hex[:8]}@example.com"
    title = f"Warm on cold nights {uuid.uuid4().hex[:4]}"
    product = store.store.product(domain, PRODUCT)
    order = store.place_order(domain, lines=[(PRODUCT, 1)], email=email, first_name="Iris", last_name="Moreau")
    store.fulfil(domain, order["id"])

    # 1. The request arrives after the shop's delay; Iris clicks the fourth star.
    _wait(lambda: _request_email(store, email) is not None, "the review request email", timeout)
    star = _star_link(_request_email(store, email), rating)
    form = httpx.get(star, timeout=30)
    prefix, checked = _chosen_stars(form.text)
    if form.status_code != 200 or checked != [str(rating)]:
        raise StepFailed(f"the {rating}-star link opened the form with {checked or 'no'} stars chosen")

    # 2. She posts her review with a photo from her phone; the page thanks her.
    photo = phone_photo()
    page_url = star.split("?", 1)[0]
    posted = _post_review(page_url, prefix, {
        "rating": str(rating), "title": title, "display_name": "Iris M.",
        "body": "Thick and soft, it kept us warm by the lake. The stitching could be neater."}, photo)
    if posted.status_code != 302:
        errors = [html.unescape(e) for e in re.findall(r'<p class="error"[^>]*>(.*?)</p>', posted.text)]
        raise StepFailed(f"posting the review answered {posted.status_code}: {' '.join(errors)}")
    thanks = httpx.get(httpx.URL(page_url).join(posted.headers["location"]), timeout=30).text
    if "Thank you for your review" not in thanks or "It is published now." not in thanks:
        raise StepFailed("the thank-you page does not say the review is published")

    # 3. The store's reviews page shows it, marked as a verified buyer's, with her photo.
    _wait(lambda: _storefront_review(store, domain, product["id"], title), "the review on the store's reviews page",
          timeout)
    item = _storefront_review(store, domain, product["id"], title)
    photos = re.findall(r'<img src="([^"]+/reviews/photos/\d+\.jpg)"', item)
    if "Verified buyer" not in item or len(photos) != 1:
        raise StepFailed(f"the review shows {len(photos)} photos and {'a' if 'Verified buyer' in item else 'no'} "
                         "verified buyer label, expected one photo and the label")
    photo_url = f"{store.url}{html.unescape(photos[0])}"

    # 4. Once the thumbnail job ran, the photo link serves the small thumbnail, not the full photo.
    def thumbnail_served() -> bool:
        size = _served_size(photo_url)
        return size is not None and max(size) <= THUMB_SIDE

    _wait(thumbnail_served, "the photo's thumbnail on the store's reviews page", timeout)
    return ReviewJourney(email=email, order_id=order["id"], product_id=product["id"], title=title, rating=rating,
                         photo=photo, photo_url=photo_url, thumbnail=httpx.get(photo_url, timeout=30).content)


@smoke_step("reviews: a star link from the email, a review with a photo, shown verified on the storefront")
def _smoke_review(demo: Demo) -> None:
    review_journey(demo.store)
