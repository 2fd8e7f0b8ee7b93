"""Shopper photos: checked, re-encoded without EXIF or GPS, thumbnailed in a job."""
from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 5
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
# What one photo may cost once decoded. A 154 KB PNG can declare 6300 x 6300 pixels (660 MB
# on the way to a JPEG); a gthread worker with 2 GB serves several uploads of five photos at
# once. JPEGs decode at 1/2 to 1/8 scale (draft), so a 40 MP camera photo fits; PNG and WebP
# decode at full size, so they are held to this.
MAX_DECODED_PIXELS = 16_000_000
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
        raise PhotoInvalid(_("%(name)s is larger than %(size)s MB.") % {"name": upload.name,
                                                                         "size": MAX_BYTES // (1024 * 1024)})
    raw = upload.read()
    webp = _webp_size(raw)
    if webp and webp[0] * webp[1] > MAX_DECODED_PIXELS:  # Pillow sizes WebP's canvas as it opens the file
        raise PhotoInvalid(_too_large(upload.name, *webp))
    try:
        with Image.open(io.BytesIO(raw)) as probe:  # reads the header only (but for WebP, above)
            _check_header(upload.name, probe)
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            _check_header(upload.name, image)
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")  # a palette would be shrunk by nearest neighbour
            image.thumbnail((MAX_SIDE, MAX_SIDE))  # decodes once, and a JPEG at reduced scale
            image = ImageOps.exif_transpose(image)  # keep the photo upright once the EXIF is gone
            image = _rgb(image)
            return CleanPhoto(_jpeg(image, 85), image.width, image.height)
    except PhotoInvalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoInvalid(_not_a_photo(upload.name)) from None


def _check_header(name: str, image: Image.Image) -> None:
    """Refuses, before a single pixel is decoded, what would cost too much memory to decode."""
    if image.format not in FORMATS:
        raise PhotoInvalid(_not_a_photo(name))
    width, height = image.size
    if image.format == "JPEG":
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # only sets the scale the decoder will use
    if width * height > MAX_PIXELS or image.width * image.height > MAX_DECODED_PIXELS:
        raise PhotoInvalid(_too_large(name, width, height))


def _not_a_photo(name: str) -> str:
    return _("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name}


def _too_large(name: str, width: int, height: int) -> str:
    return _("%(name)s is %(width)s x %(height)s pixels, too large: photos may have up to %(megapixels)s megapixels "
             "(JPEG up to %(jpeg_megapixels)s).") % {
        "name": name, "width": width, "height": height, "megapixels": MAX_DECODED_PIXELS // 1_000_000,
        "jpeg_megapixels": MAX_PIXELS // 1_000_000}


def _webp_size(raw: bytes) -> tuple[int, int] | None:
    """A WebP's declared width and height from its first chunk's header (None if not a WebP)."""
    if len(raw) < 30 or raw[:4] != b"RIFF" or raw[8:12] != b"WEBP":
        return None
    kind = raw[12:16]
    if kind == b"VP8X":  # extended: 24-bit canvas width and height, minus one
        return int.from_bytes(raw[24:27], "little") + 1, int.from_bytes(raw[27:30], "little") + 1
    if kind == b"VP8L":  # lossless: 14-bit width and height, minus one, after the signature byte
        bits = int.from_bytes(raw[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 ":  # lossy: 14-bit width and height after the frame tag and start code
        return int.from_bytes(raw[26:28], "little") & 0x3FFF, int.from_bytes(raw[28:30], "little") & 0x3FFF
    return None


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
