"""Verify an uploaded photo and re-encode it without metadata (Pillow, imported on first use).

``clean_image(data, declared_type, max_bytes)`` accepts only a complete, decodable JPEG, PNG or
WebP whose bytes really are the declared type and whose dimensions are within the
decompression-bomb limits (checked from the header, before any pixel is decoded). It returns a
new encoding built from the pixels alone: EXIF (GPS, camera serial), XMP, IPTC, comments and
ICC profiles are not copied, because the new image is made from raw pixel bytes and has no
metadata to carry. The EXIF orientation is applied to the pixels first, so a photo still stands
the right way up; colours under an embedded ICC profile are converted to sRGB before the
profile is dropped. Animated images keep their first frame.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.attachments import FORMATS, MAX_PIXELS, MAX_SIDE, THUMB_SIDE
from chalicelib.errors import PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError

if TYPE_CHECKING:
    from PIL.Image import Image


# The first bytes of each accepted format (checked before Pillow sees the file).
def _is_jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


_MAGIC: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": _is_jpeg,
    "image/png": _is_png,
    "image/webp": _is_webp,
}
_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}


class AttachmentTypeError(UnsupportedMediaTypeError):
    """The bytes are not the declared image type (or no accepted type at all)."""

    code = "attachment_type_mismatch"


class AttachmentTooLargeError(PayloadTooLargeError):
    code = "attachment_too_large"


class AttachmentTooManyPixelsError(PayloadTooLargeError):
    """Too many pixels: a decompression bomb, or simply a huge image."""

    code = "attachment_too_many_pixels"


class AttachmentUndecodableError(ValidationError):
    """The file is truncated or corrupt: it cannot be decoded completely."""

    code = "attachment_undecodable"


@dataclass(frozen=True)
class CleanImage:
    """The re-encoded image and its thumbnail, both without metadata."""

    data: bytes
    content_type: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: str


def sniff(data: bytes) -> str | None:
    """The accepted type the first bytes announce, or None."""
    for content_type, matches in _MAGIC.items():
        if matches(data[:16]):
            return content_type
    return None


def clean_image(data: bytes, declared_type: str, max_bytes: int) -> CleanImage:
    """Verify ``data`` as ``declared_type`` and re-encode it without metadata (see module)."""
    if declared_type not in FORMATS:
        raise AttachmentTypeError(
            "Only JPEG, PNG and WebP photos can be attached.", {"file": "type not accepted"}
        )
    name = _NAMES[declared_type]
    if len(data) > max_bytes:
        raise AttachmentTooLargeError(
            f"A photo may be at most {max_bytes // (1024 * 1024)} MB.", {"file": "too large"}
        )
    found = sniff(data)
    if found != declared_type:
        what = f"a {_NAMES[found]} image" if found else "not a JPEG, PNG or WebP image"
        raise AttachmentTypeError(
            f"The file was declared as {name} but is {what}.", {"file": "type mismatch"}
        )
    image = _decode(data, declared_type)
    return _reencode(image, declared_type)


def _decode(data: bytes, content_type: str) -> Image:
    from PIL import Image

    fmt = FORMATS[content_type]
    with warnings.catch_warnings():
        # Pillow warns (then fails at twice the limit) on huge images: fail at the warning.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data), formats=[fmt])
            _check_size(probe.size)
            probe.verify()  # structure and checksums; leaves the image unusable
            image = Image.open(io.BytesIO(data), formats=[fmt])
            image.load()  # every pixel: a truncated or corrupt file fails here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except AttachmentTooManyPixelsError:
            raise
        except Exception:
            # Pillow reports malformed input with many exception types (OSError, SyntaxError,
            # ValueError, struct.error, EOFError...): all mean "cannot be decoded".
            raise AttachmentUndecodableError(
                "The photo is damaged or incomplete and cannot be read; try another file.",
                {"file": "cannot be decoded"},
            ) from None
    if image.format != fmt:
        raise AttachmentTypeError(
            f"The file is not a {_NAMES[content_type]} image.", {"file": "type mismatch"}
        )
    return image


def _too_many_pixels() -> AttachmentTooManyPixelsError:
    return AttachmentTooManyPixelsError(
        f"A photo may have at most {MAX_PIXELS // 1_000_000} million pixels and "
        f"{MAX_SIDE} pixels on a side.",
        {"file": "too many pixels"},
    )


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE:
        raise _too_many_pixels()
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()


def _to_srgb(image: Image) -> Image:
    """Pixels converted from the embedded ICC profile to sRGB (unchanged when impossible)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except Exception:  # a broken or exotic profile: keep the pixels as they are
        return image
    return converted if converted is not None else image


def _reencode(image: Image, content_type: str) -> CleanImage:
    from PIL import Image as PilImage
    from PIL import ImageOps

    upright = ImageOps.exif_transpose(image) or image
    upright.info = dict(image.info)  # keep the ICC profile for the sRGB conversion
    if content_type == "image/jpeg":
        mode = "L" if upright.mode in ("1", "L") else "RGB"
    else:
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        mode = "RGBA" if has_alpha else ("L" if upright.mode in ("1", "L") else "RGB")
    try:
        pixels = _to_srgb(upright.convert("RGBA" if upright.mode == "P" else upright.mode))
        pixels = pixels.convert(mode)
    except Exception:
        raise AttachmentUndecodableError(
            "The photo's colour format is not supported; try another file.",
            {"file": "cannot be converted"},
        ) from None
    # A new image from the raw pixels alone: no EXIF, XMP, IPTC, comments or ICC to carry over.
    clean = PilImage.frombytes(mode, pixels.size, pixels.tobytes())
    thumb = clean.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return CleanImage(
        data=_encode(clean, content_type),
        content_type=content_type,
        width=clean.width,
        height=clean.height,
        thumbnail=_encode(thumb, content_type),
        thumbnail_type=content_type,
    )


def _encode(image: Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        image.save(out, "JPEG", quality=88)
    elif content_type == "image/png":
        image.save(out, "PNG")
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()
