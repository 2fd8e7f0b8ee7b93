from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from reviews.models import ModerationDecision, ProductRating, Review, ReviewPhoto
from reviews.photos import PhotoInvalid, photo_clean
from tests.reviews.test_form import _path, sent_request  # noqa: F401 (fixture)
from tests.reviews.test_storefront import _empty_cache, _get, _photo, _review, _text  # noqa: F401 (fixture)
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db


def png_bomb(width: int = 6300, height: int = 6300) -> bytes:
    """A real grayscale PNG, a few dozen KB on disk, that decodes to width x height pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor, row, parts = zlib.compressobj(9), b"\0" * (width + 1), []
    for _ in range(height):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts))
            + chunk(b"IEND", b""))


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size of every image Pillow decodes: proves what was (not) decoded, and at what scale."""
    sizes, load = [], ImageFile.ImageFile.load

    def spy(self):
        sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


def test_a_small_png_declaring_a_huge_image_is_refused_before_any_pixel_is_decoded(decoded_sizes):
    bomb = png_bomb()
    assert len(bomb) < 200_000
    with pytest.raises(PhotoInvalid, match=r"bomb.png is 6300 x 6300 pixels, too large: photos may have up to 16"):
        photo_clean(SimpleUploadedFile("bomb.png", bomb, content_type="image/png"))
    assert decoded_sizes == []


def test_a_webp_declaring_a_huge_canvas_is_refused_before_pillow_opens_it(monkeypatch):
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (1, 2, 3, 4)).save(out, "WEBP")
    data = bytearray(out.getvalue())
    assert data[12:16] == b"VP8X"
    data[24:30] = (11999).to_bytes(3, "little") * 2  # the canvas Pillow's decoder would allocate: 576 MB
    opened = []
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(PhotoInvalid, match="huge.webp is 12000 x 12000 pixels, too large"):
        photo_clean(SimpleUploadedFile("huge.webp", bytes(data), content_type="image/webp"))
    assert opened == []


@pytest.mark.parametrize("options", [{}, {"lossless": True}])
def test_webp_photos_within_the_limit_are_accepted(options):
    out = io.BytesIO()
    Image.new("RGB", (2400, 1200), (90, 10, 10)).save(out, "WEBP", **options)
    photo = photo_clean(SimpleUploadedFile("fine.webp", out.getvalue(), content_type="image/webp"))
    assert (photo.width, photo.height) == (2000, 1000)


def test_a_large_camera_jpeg_is_accepted_and_decoded_at_reduced_scale(decoded_sizes):
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), (40, 90, 200)).save(out, "JPEG")
    photo = photo_clean(SimpleUploadedFile("camera.jpg", out.getvalue(), content_type="image/jpeg"))
    assert (photo.width, photo.height) == (2000, 1333)
    assert decoded_sizes and max(w * h for w, h in decoded_sizes) <= 3000 * 2000


def test_a_png_at_the_decoding_limit_is_accepted(decoded_sizes):
    photo = photo_clean(SimpleUploadedFile("wide.png", png_bomb(4000, 4000), content_type="image/png"))
    assert (photo.width, photo.height) == (2000, 2000)


def test_the_review_page_refuses_a_decompression_bomb_with_a_clear_message_and_saves_nothing(
        client, sent_request, decoded_sizes):  # noqa: F811
    request = sent_request(products=((1, "Trail Mug"),))
    mug = request.items.get()
    bombs = [SimpleUploadedFile(f"{i}.png", png_bomb(), content_type="image/png") for i in range(5)]
    response = client.post(_path(request), {f"i{mug.pk}-rating": "5", f"i{mug.pk}-body": "Keep me",
                                            f"i{mug.pk}-photos": bombs})
    assert response.status_code == 400
    assert "0.png is 6300 x 6300 pixels, too large" in response.content.decode()
    assert not Review.objects.exists()
    assert decoded_sizes == []


def _hide(client, make_session_token, shop, review, photo, action="hide_photo"):
    return client.post(f"/app/reviews/{review.pk}/?id_token={make_session_token(shop.domain)}",
                       {"action": action, "photo": str(photo.pk)})


def test_merchant_hides_one_photo_and_the_store_stops_showing_it_while_the_review_stays(
        client, make_session_token, panel_get, shop):
    review = _review(shop, 5, title="Great mug", photos=[_photo(), _photo()])
    hidden, kept = review.photos.all()
    widget = _text(_get(client, shop))
    assert f"/reviews/photos/{hidden.pk}.jpg" in widget

    response = _hide(client, make_session_token, shop, review, hidden)
    page = response.content.decode()
    assert response.status_code == 200 and "Photo hidden." in page
    assert "photo-hidden" in page and "Unhide" in page and "Hide photo" in page  # the other one can still be hidden
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert [(d.action, d.reason) for d in review.decisions.all()] == [(ModerationDecision.Action.PHOTO_HIDDEN, "photo 1")]

    widget = _text(_get(client, shop))
    assert "Great mug" in widget
    assert f"/reviews/photos/{hidden.pk}.jpg" not in widget and f"/reviews/photos/{kept.pk}.jpg" in widget
    assert _get(client, shop, format="json").json()["reviews"][0]["photos"] == [
        f"/apps/advocate/reviews/photos/{kept.pk}.jpg"]
    photo_path = f"/proxy/reviews/photos/{hidden.pk}.jpg?{signed_proxy_query(shop.domain)}"
    assert client.get(photo_path).status_code == 404
    assert panel_get(f"/app/reviews/photos/{hidden.pk}.jpg", shop).status_code == 200  # the merchant still sees it

    _hide(client, make_session_token, shop, review, hidden, action="show_photo")
    assert f"/reviews/photos/{hidden.pk}.jpg" in _text(_get(client, shop))
    assert client.get(photo_path).status_code == 200


def test_hiding_the_only_photo_takes_the_review_out_of_with_photos(client, make_session_token, shop):
    review = _review(shop, 5, photos=[_photo()])
    assert ProductRating.objects.get(shop=shop).with_photos == 1
    _hide(client, make_session_token, shop, review, review.photos.get())
    assert ProductRating.objects.get(shop=shop).with_photos == 0


def test_hiding_twice_records_one_decision(client, make_session_token, shop):
    review = _review(shop, 5, photos=[_photo()])
    photo = review.photos.get()
    for _ in range(2):
        assert _hide(client, make_session_token, shop, review, photo).status_code == 200
    assert review.decisions.filter(action=ModerationDecision.Action.PHOTO_HIDDEN).count() == 1


def test_another_shops_photo_or_another_reviews_photo_cannot_be_hidden(client, make_session_token, shop, other_shop):
    review = _review(shop, 5, photos=[_photo()])
    photo = review.photos.get()
    assert _hide(client, make_session_token, other_shop, review, photo).status_code == 404
    theirs = _review(other_shop, 5, photos=[_photo()])
    assert _hide(client, make_session_token, shop, review, theirs.photos.get()).status_code == 404
    mine_too = _review(shop, 4, product_id=2, photos=[_photo()])
    assert _hide(client, make_session_token, shop, review, mine_too.photos.get()).status_code == 404
    for bad in ("x", "9" * 20, ""):
        response = client.post(f"/app/reviews/{review.pk}/?id_token={make_session_token(shop.domain)}",
                               {"action": "hide_photo", "photo": bad})
        assert response.status_code == 404
    assert not ReviewPhoto.objects.exclude(hidden_at=None).exists()
