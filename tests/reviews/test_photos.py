from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from reviews.models import Review
from reviews.photos import PhotoInvalid, photo_clean
from tests.reviews.test_form import _path, sent_request  # noqa: F401 (fixture)

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
