"""Test images built with Pillow: a JPEG with GPS EXIF and a camera serial, a PNG, a WebP, a
decompression bomb, a truncated JPEG, a PHP script named .jpg."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

SERIAL = "SN-CAMERA-4711-SECRET"
MAKE = "AcmeCam"
GPS_IFD = 0x8825
BODY_SERIAL = 0xA431
EXIF_IFD = 0x8769
PHP = b"<?php system($_GET['cmd']); ?>\n"


def _picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size)
    w, h = size
    # A gradient, so the encoder has real content (and orientation is visible).
    image.putdata(
        [
            ((x * 255) // w, (y * 255) // h, 128, 255)[: len(mode)]
            for y in range(h)
            for x in range(w)
        ]
    )
    return image


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    """A JPEG whose EXIF carries GPS coordinates, the camera make and its serial number."""
    exif = Image.Exif()
    exif[0x010F] = MAKE  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(EXIF_IFD)[BODY_SERIAL] = SERIAL
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 40.2)
    out = io.BytesIO()
    _picture(size).save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    _picture(size, "RGBA").save(out, "PNG")
    return out.getvalue()


def webp(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    _picture(size).save(out, "WEBP")
    return out.getvalue()


def big_jpeg(min_bytes: int) -> bytes:
    """A JPEG of at least ``min_bytes`` (noise does not compress)."""
    import os

    side = 256
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=100)
        if out.tell() >= min_bytes:
            return out.getvalue()
        side *= 2


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG declaring ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 16, 9)  # only a few rows: still tiny
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    data = jpeg_with_gps((200, 150))
    return data[: len(data) * 2 // 3]


def has_metadata(data: bytes) -> list[str]:
    """What metadata the encoded image still carries (empty when clean), read from the bytes."""
    found = []
    image = Image.open(io.BytesIO(data))
    for name in ("exif", "xmp", "icc_profile", "comment", "photoshop", "iptc"):
        if image.info.get(name):
            found.append(name)
    if len(image.getexif()):
        found.append("exif-tags")
    for needle in (
        b"Exif\x00\x00",
        SERIAL.encode(),
        MAKE.encode(),
        b"GPS",
        b"http://ns.adobe.com/xap",
    ):
        if needle in data:
            found.append(repr(needle))
    return found
