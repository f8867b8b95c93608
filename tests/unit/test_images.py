"""Photo verification and cleaning (``services/images.py``) with images built by Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chalicelib.errors import ClearloopError
from chalicelib.services.images import clean_image, sniff
from tests.support import images

MAX = 5 * 1024 * 1024


def test_the_test_photo_really_carries_gps_and_the_serial() -> None:
    found = images.has_metadata(images.jpeg_with_gps())
    assert "exif" in found
    assert repr(images.SERIAL.encode()) in found


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (images.jpeg_with_gps(), "image/jpeg"),
        (images.png(), "image/png"),
        (images.webp(), "image/webp"),
    ],
)
def test_clean_copies_and_thumbnails_carry_no_metadata(data: bytes, content_type: str) -> None:
    clean = clean_image(data, content_type, MAX)
    assert clean.content_type == content_type
    for encoded in (clean.data, clean.thumbnail):
        assert sniff(encoded) == content_type
        assert images.has_metadata(encoded) == []


def test_orientation_is_applied_before_exif_is_dropped() -> None:
    clean = clean_image(images.jpeg_with_gps((64, 48), orientation=6), "image/jpeg", MAX)
    assert (clean.width, clean.height) == (48, 64)


def test_an_icc_profile_is_converted_and_dropped() -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(out, "PNG", icc_profile=srgb)
    assert Image.open(io.BytesIO(out.getvalue())).info.get("icc_profile")
    clean = clean_image(out.getvalue(), "image/png", MAX)
    reread = Image.open(io.BytesIO(clean.data))
    assert "icc_profile" not in reread.info
    assert reread.getpixel((5, 5)) == (200, 30, 30)  # sRGB to sRGB: colours unchanged


def test_thumbnails_are_small() -> None:
    clean = clean_image(images.png((1000, 500)), "image/png", MAX)
    thumb = Image.open(io.BytesIO(clean.thumbnail))
    assert max(thumb.size) == 320


@pytest.mark.parametrize(
    ("make", "content_type", "code"),
    [
        (lambda: images.PHP, "image/jpeg", "attachment_type_mismatch"),
        (images.png, "image/jpeg", "attachment_type_mismatch"),
        (images.jpeg_with_gps, "image/png", "attachment_type_mismatch"),
        (images.jpeg_with_gps, "image/gif", "attachment_type_mismatch"),
        (images.png_bomb, "image/png", "attachment_too_many_pixels"),
        (lambda: images.png_bomb(13_000, 10), "image/png", "attachment_too_many_pixels"),
        (images.truncated_jpeg, "image/jpeg", "attachment_undecodable"),
        (lambda: images.png()[:60], "image/png", "attachment_undecodable"),
        (lambda: images.big_jpeg(MAX + 1), "image/jpeg", "attachment_too_large"),
    ],
)
def test_bad_files_are_refused_with_a_clear_code(
    make: object, content_type: str, code: str
) -> None:
    data = make()  # type: ignore[operator]
    with pytest.raises(ClearloopError) as caught:
        clean_image(data, content_type, MAX)
    assert caught.value.code == code
    assert caught.value.message
