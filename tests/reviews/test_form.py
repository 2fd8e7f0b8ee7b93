from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reviews.models import Review, ReviewPhoto, ReviewRequest
from reviews.requests import review_link
from shopapp.links import link_token
from tests.reviews.conftest import sweep_at
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY


@pytest.fixture
def sent_request(fulfilled_order):
    """A request that went out, for an order of two products."""

    def make(**kwargs):
        kwargs.setdefault("products", ((1, "Trail Mug"), (2, "Camp Kettle")))
        order = fulfilled_order(**kwargs)
        sweep_at(order.fulfilled_at + 14 * DAY)
        request = ReviewRequest.objects.get(order=order)
        assert request.status == ReviewRequest.Status.SENT
        return request

    return make


def _path(request) -> str:
    return review_link(request).removeprefix(settings.APP_URL)


def jpeg_with_gps(name="photo.jpg", fmt="JPEG") -> SimpleUploadedFile:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0), 1: "N"}  # GPS IFD
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_star_link_opens_the_page_for_every_product_with_that_star_chosen(client, sent_request):
    request = sent_request()
    mug = request.items.get(title="Trail Mug")
    response = client.get(f"{_path(request)}?item={mug.pk}&rating=4")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Trail Mug" in page and "Camp Kettle" in page
    assert f'name="i{mug.pk}-rating" value="4" id="id_i{mug.pk}-rating_1" checked' in page
    assert page.count(" checked") == 1
    assert 'value="Maya R."' in page  # display name suggested from the order
    request.refresh_from_db()
    assert request.clicked_at is not None


def test_posting_reviews_two_products_verified_and_publishes_them(client, sent_request):
    request = sent_request()
    mug, kettle = request.items.order_by("pk")
    response = client.post(_path(request), {
        f"i{mug.pk}-rating": "5", f"i{mug.pk}-title": "Keeps coffee hot", f"i{mug.pk}-body": "Solid mug for hikes.",
        f"i{mug.pk}-display_name": "Maya R.",
        f"i{kettle.pk}-rating": "2", f"i{kettle.pk}-body": "The handle gets very hot.", f"i{kettle.pk}-display_name": "Maya R.",
    })
    assert response.status_code == 302 and response["Location"].endswith("?done=1")
    reviews = {r.product_title: r for r in Review.objects.all()}
    assert reviews["Trail Mug"].rating == 5 and reviews["Camp Kettle"].rating == 2
    assert all(r.verified and r.status == Review.Status.PUBLISHED for r in reviews.values())
    request.refresh_from_db()
    assert request.status == ReviewRequest.Status.COMPLETED
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_missing_stars_is_refused_and_what_was_typed_is_kept(client, sent_request):
    request = sent_request()
    mug = request.items.order_by("pk").first()
    response = client.post(_path(request), {f"i{mug.pk}-title": "Great <b>mug</b>", f"i{mug.pk}-body": "I typed all this."})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose a star rating to post this review." in page
    assert "I typed all this." in page and "Great &lt;b&gt;mug&lt;/b&gt;" in page
    assert not Review.objects.exists()


def test_nothing_rated_at_all_is_refused(client, sent_request):
    request = sent_request()
    response = client.post(_path(request), {})
    assert response.status_code == 400 and "at least one product" in response.content.decode()


def test_too_long_review_is_refused_with_the_limit(client, sent_request):
    request = sent_request()
    mug = request.items.order_by("pk").first()
    response = client.post(_path(request), {f"i{mug.pk}-rating": "3", f"i{mug.pk}-body": "x" * 5001})
    assert response.status_code == 400 and "at most 5000 characters" in response.content.decode()
    assert not Review.objects.exists()


def test_edit_through_the_same_link_keeps_the_history(client, sent_request):
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    client.post(_path(request), {f"i{mug.pk}-rating": "2", f"i{mug.pk}-body": "Arrived chipped."})
    page = client.get(_path(request)).content.decode()
    assert "Arrived chipped." in page and "Save my review" in page
    client.post(_path(request), {f"i{mug.pk}-rating": "4", f"i{mug.pk}-body": "Replacement is perfect."})
    review = Review.objects.get()
    assert (review.rating, review.body) == (4, "Replacement is perfect.")
    assert [(r.rating, r.body) for r in review.revisions.all()] == [(2, "Arrived chipped.")]


def test_photos_are_reencoded_without_exif_and_thumbnailed(client, sent_request, django_capture_on_commit_callbacks):
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_path(request), {f"i{mug.pk}-rating": "5", f"i{mug.pk}-photos": [jpeg_with_gps(), jpeg_with_gps("b.png", "PNG")]})
    assert response.status_code == 302
    photos = list(ReviewPhoto.objects.all())
    assert len(photos) == 2
    for photo in photos:
        data = bytes(photo.image)
        assert b"SecretCam" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and not image.getexif()
        assert photo.thumbnail  # made by the job
    page = client.get(_path(request)).content.decode()
    assert f"/photos/{photos[0].pk}.jpg" in page
    assert client.get(f"{_path(request)}/photos/{photos[0].pk}.jpg")["Content-Type"] == "image/jpeg"


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_saved(client, sent_request):
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    fake = SimpleUploadedFile("evil.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    response = client.post(_path(request), {f"i{mug.pk}-rating": "5", f"i{mug.pk}-body": "Keep me", f"i{mug.pk}-photos": [fake]})
    assert response.status_code == 400
    assert "evil.jpg is not a JPEG, PNG or WebP image." in response.content.decode()
    assert "Keep me" in response.content.decode()
    assert not Review.objects.exists()


def test_more_than_five_photos_are_refused(client, sent_request):
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    response = client.post(_path(request), {f"i{mug.pk}-rating": "5", f"i{mug.pk}-photos": [jpeg_with_gps(f"{i}.jpg") for i in range(6)]})
    assert response.status_code == 400 and "up to 5 photos" in response.content.decode()


@pytest.mark.parametrize("mangle", ["tampered", "expired", "cancelled"])
def test_bad_links_get_a_friendly_page_that_reveals_nothing(client, sent_request, mangle, freezer=None):
    request = sent_request()
    path = _path(request)
    if mangle == "tampered":
        path = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    elif mangle == "expired":
        from unittest import mock

        with mock.patch("django.core.signing.time.time", return_value=__import__("time").time() - 181 * 86400):
            path = f"/reviews/r/{link_token('review-request', request.pk)}"
    else:
        ReviewRequest.objects.filter(pk=request.pk).update(status=ReviewRequest.Status.CANCELLED)
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 404
    assert "This review link does not work" in page
    assert "Trail Mug" not in page and request.order.name not in page


def test_review_page_through_the_app_proxy(client, sent_request, shop):
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    token = _path(request).rsplit("/", 1)[1]
    response = client.get(f"/proxy/reviews/r/{token}?{signed_proxy_query(shop.domain)}")
    assert response.status_code == 200
    assert f'action="/apps/advocate/reviews/r/{token}"' in response.content.decode()
    response = client.post(f"/proxy/reviews/r/{token}?{signed_proxy_query(shop.domain)}", {f"i{mug.pk}-rating": "5"})
    assert response.status_code == 302 and response["Location"] == f"/apps/advocate/reviews/r/{token}?done=1"
    assert Review.objects.get().verified


def test_another_shops_proxy_cannot_open_the_link(client, sent_request, other_shop):
    request = sent_request(products=((1, "Trail Mug"),))
    token = _path(request).rsplit("/", 1)[1]
    response = client.get(f"/proxy/reviews/r/{token}?{signed_proxy_query(other_shop.domain)}")
    assert response.status_code == 404 and "Trail Mug" not in response.content.decode()
    mug = request.items.get()
    client.post(f"/proxy/reviews/r/{token}?{signed_proxy_query(other_shop.domain)}", {f"i{mug.pk}-rating": "5"})
    assert not Review.objects.exists()


def test_held_review_says_so_on_the_thank_you_page(client, sent_request):
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    response = client.post(_path(request), {f"i{mug.pk}-rating": "1", f"i{mug.pk}-body": "Mail me at maya@example.com"})
    review = Review.objects.get()
    assert review.status == Review.Status.HELD and review.held_reasons == ["personal_data"]
    assert "once the shop has checked it" in client.get(response["Location"]).content.decode()
