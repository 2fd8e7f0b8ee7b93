"""The review journey over real HTTP, against devstore, with a one-second day: a fulfilled order's
request email, a star link, a review with a photo, the store's reviews page; then what Advocate stored."""
from __future__ import annotations

import io
import json

import pytest
from PIL import ExifTags, Image

from devstore.journeys.reviews import PHOTO_SIZE, THUMB_SIDE, review_journey
from tests.e2e.conftest import DEMO

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def journey(installed):
    return review_journey(installed.store, DEMO)


def _review(stack, title):
    """The review with its order line, that line's order, and the request it answered."""
    [row] = stack.db(
        "select r.id, r.status, r.rating, r.source, r.order_line_id, l.product_id, o.shopify_id, r.request_id "
        "from reviews_review r left join shopapp_orderline l on l.id = r.order_line_id "
        "left join shopapp_order o on o.id = l.order_id where r.title = ?", (title,))
    return row


def _jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def _has_no_metadata(data: bytes) -> bool:
    image = _jpeg(data)
    return "exif" not in image.info and not dict(image.getexif()) and b"Exif\x00\x00" not in data


def test_the_review_is_a_verified_buyers_tied_to_the_order_line_it_came_from(installed, journey):
    review_id, status, rating, source, line_id, product_id, order_id, request_id = _review(installed, journey.title)
    assert (status, rating, source) == ("published", journey.rating, "request")
    assert line_id is not None, "a review from the request email must be tied to its order line (verified buyer)"
    assert (product_id, order_id) == (journey.product_id, journey.order_id)
    [(request_order,)] = installed.db(
        "select o.shopify_id from reviews_reviewrequest q join shopapp_order o on o.id = q.order_id where q.id = ?",
        (request_id,))
    assert request_order == journey.order_id


def test_the_request_is_completed_after_the_star_click(installed, journey):
    *_, request_id = _review(installed, journey.title)
    [(status, sent_at, clicked_at, completed_at)] = installed.db(
        "select status, sent_at, clicked_at, completed_at from reviews_reviewrequest where id = ?", (request_id,))
    assert status == "completed"
    assert sent_at and clicked_at and completed_at
    assert sent_at <= clicked_at <= completed_at


def test_the_photo_is_stored_re_encoded_without_exif_with_its_thumbnail(installed, journey):
    uploaded = _jpeg(journey.photo).getexif()
    assert uploaded[ExifTags.Base.Make] == "DevCam" and uploaded.get_ifd(ExifTags.IFD.GPSInfo), "the upload had EXIF"

    review_id = _review(installed, journey.title)[0]
    [(content_type, image, thumbnail, width, height)] = installed.db(
        "select content_type, image, thumbnail, width, height from reviews_reviewphoto where review_id = ?",
        (review_id,))
    assert content_type == "image/jpeg" and (width, height) == PHOTO_SIZE
    assert _jpeg(image).size == PHOTO_SIZE and _has_no_metadata(image)
    assert image != journey.photo
    assert thumbnail is not None and max(_jpeg(thumbnail).size) == THUMB_SIDE and _has_no_metadata(thumbnail)
    # The store's reviews page served exactly this thumbnail.
    assert journey.thumbnail == thumbnail


def test_the_products_rating_counts_the_review_with_its_photo(installed, journey):
    [(count, with_photos, histogram)] = installed.db(
        "select count, with_photos, histogram from reviews_productrating where product_id = ?", (journey.product_id,))
    # Nothing else in this stack reviewed the product: the journey's review is its only one.
    assert (count, with_photos) == (1, 1)
    assert json.loads(histogram) == {str(n): int(n == journey.rating) for n in range(1, 6)}
