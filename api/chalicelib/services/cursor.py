"""Opaque, tamper-evident cursors for paged staff lists (HMAC under the server secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.crypto.port import Keyring
from chalicelib.errors import ValidationError

_PURPOSE = "cursor"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_fingerprint(query: Any) -> str:
    """A short digest of the filters, so a cursor only continues the list it came from."""
    text = json.dumps(query, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(keyring: Keyring, position: str, fingerprint: str) -> str:
    body = _b64(json.dumps({"p": position, "q": fingerprint}, separators=(",", ":")).encode())
    mac = _b64(keyring.mac(_PURPOSE, body.encode())[:16])
    return f"{body}.{mac}"


def decode_cursor(keyring: Keyring, cursor: str, fingerprint: str) -> str:
    """The position inside ``cursor``; a ValidationError when it was altered or is for
    another list."""
    bad = ValidationError("The cursor is not valid for this list.", {"cursor": "invalid"})
    try:
        body, mac = cursor.split(".")
        expected = _b64(keyring.mac(_PURPOSE, body.encode())[:16])
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), expected.encode()):
            raise bad
        data = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if (
        not isinstance(data, dict)
        or data.get("q") != fingerprint
        or not isinstance(data.get("p"), str)
    ):
        raise bad
    return str(data["p"])
