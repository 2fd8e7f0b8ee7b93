"""Shopper photos: checked, re-encoded without EXIF or GPS, thumbnailed in a job."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 5
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000
THUMB_SIDE = 320
FORMATS = {"JPEG", "PNG", "WEBP"}


class PhotoInvalid(ValueError):
    pass


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def photo_clean(upload) -> CleanPhoto:
    """A JPEG re-encoded from the upload's pixels only: no EXIF, GPS or other metadata survives."""
    if upload.size > MAX_BYTES:
        raise PhotoInvalid(f"{upload.name} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    raw = upload.read()
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in FORMATS:
                raise PhotoInvalid(f"{upload.name} is not a JPEG, PNG or WebP image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoInvalid(f"{upload.name} has too many pixels.")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image)  # keep the photo upright once the EXIF is gone
            image = _rgb(image)
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            return CleanPhoto(_jpeg(image, 85), image.width, image.height)
    except PhotoInvalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise PhotoInvalid(f"{upload.name} is not a JPEG, PNG or WebP image.") from None


def thumbnail_bytes(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image = _rgb(image)
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        return _jpeg(image, 80)


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)  # no exif= argument: nothing carried over
    return out.getvalue()
