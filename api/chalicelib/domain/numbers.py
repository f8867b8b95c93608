"""Ticket numbers and private keys.

A ticket number is ``<PREFIX>-XXXXX-XXXXC``: nine random Crockford base32 symbols (45 bits) and a
check symbol (a weighted sum over GF(32), see ``check_symbol``), which catches every
single-symbol typo and every swap of two adjacent symbols. Input is accepted in any case, with
or without dashes, spaces or the prefix, and with Crockford's look-alikes (``I``/``L`` for
``1``, ``O`` for ``0``).

>>> n = format_number(bytes(6), "FB")
>>> n
'FB-00000-00000'
>>> parse_number("fb 0000000000", "FB") == n
True

Keys are 160 random bits in Crockford base32; only their SHA-256 digest is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_ALIASES = {"I": "1", "L": "1", "O": "0"}
RANDOM_SYMBOLS = 9
RANDOM_BYTES_FOR_NUMBER = 6  # 48 bits drawn, the top 45 used
KEY_BYTES = 20  # 160 bits


class InvalidNumberError(ValueError):
    """The text is not a well-formed ticket number (wrong length, symbol or check)."""


def _encode(data: bytes, symbols: int) -> str:
    value = int.from_bytes(data, "big")
    bits = len(data) * 8
    value >>= max(0, bits - symbols * 5)
    out = []
    for _ in range(symbols):
        out.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def _gf32_mul(a: int, b: int) -> int:
    """Multiplication in GF(2^5) with the primitive polynomial x^5 + x^2 + 1."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= 0b100101
    return product


def _weights(count: int) -> list[int]:
    # Powers of a primitive element: distinct and non-zero for up to 31 positions.
    weights, w = [], 1
    for _ in range(count):
        w = _gf32_mul(w, 2)
        weights.append(w)
    return weights


_WEIGHTS = _weights(RANDOM_SYMBOLS)
# Each weight's products with the 32 symbol values, so a check is table look-ups (every lookup
# and submission computes one).
_PRODUCTS = [[_gf32_mul(w, v) for v in range(32)] for w in _WEIGHTS]


def check_symbol(payload: str) -> str:
    """Check symbol for ``payload`` (canonical symbols): a weighted sum over GF(32).

    With distinct non-zero weights, changing one symbol changes the sum by w·d (never zero), and
    swapping two neighbours changes it by (w_i + w_j)·(a + b) (never zero when a != b): every
    single-symbol typo and every adjacent swap is caught, which Luhn mod 32 does not guarantee
    (it misses swapping 0 and Z).
    """
    total = 0
    for products, ch in zip(_PRODUCTS, payload, strict=True):
        total ^= products[_VALUE[ch]]
    return ALPHABET[total]


def format_number(random_bytes: bytes, prefix: str) -> str:
    """Build a ticket number from at least six random bytes."""
    if len(random_bytes) < RANDOM_BYTES_FOR_NUMBER:
        raise ValueError("need at least 6 random bytes")
    payload = _encode(random_bytes[:RANDOM_BYTES_FOR_NUMBER], RANDOM_SYMBOLS)
    body = payload + check_symbol(payload)
    return f"{prefix}-{body[:5]}-{body[5:]}"


_SEPARATORS = "-_ .\u2010\u2011\u2012\u2013\u2014\u2212\u30fc"
# ASCII text is its own NFKC form: one translate does what the loop below does for it.
_ASCII_FOLD = str.maketrans(
    {
        chr(c): None
        if chr(c).upper() in _SEPARATORS or chr(c).isspace()
        else _ALIASES.get(chr(c).upper(), chr(c).upper())
        for c in range(128)
    }
)


def canonical_symbols(text: str) -> str:
    """Upper-case, width-fold and alias-fold ``text``, dropping dashes and white space."""
    if text.isascii():
        return text.translate(_ASCII_FOLD)
    folded = unicodedata.normalize("NFKC", text).upper()
    out = []
    for ch in folded:
        if ch in _SEPARATORS or ch.isspace():
            continue
        out.append(_ALIASES.get(ch, ch))
    return "".join(out)


def parse_number(text: str, prefix: str) -> str:
    """Return the canonical number for user input, or raise InvalidNumberError.

    >>> parse_number("fb-0000o-00000", "FB")
    'FB-00000-00000'
    """
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidNumberError("not a ticket number")
    symbols = canonical_symbols(text)
    canon_prefix = canonical_symbols(prefix)
    if symbols.startswith(canon_prefix) and len(symbols) == len(canon_prefix) + 10:
        symbols = symbols[len(canon_prefix) :]
    if len(symbols) != RANDOM_SYMBOLS + 1 or any(ch not in _VALUE for ch in symbols):
        raise InvalidNumberError("not a ticket number")
    payload, check = symbols[:-1], symbols[-1]
    if check_symbol(payload) != check:
        raise InvalidNumberError("check symbol does not match")
    return f"{prefix}-{symbols[:5]}-{symbols[5:]}"


def format_key(random_bytes: bytes) -> str:
    """Encode a private key (160 bits) as 32 Crockford symbols."""
    if len(random_bytes) < KEY_BYTES:
        raise ValueError("need at least 20 random bytes")
    return _encode(random_bytes[:KEY_BYTES], KEY_BYTES * 8 // 5)


def hash_key(key: str) -> str:
    """Digest stored in place of a private key (keys are high-entropy, so no salt is needed)."""
    canonical = canonical_symbols(key)
    return hashlib.sha256(canonical.encode("ascii", "replace")).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with the stored digest."""
    return hmac.compare_digest(hash_key(key), stored_hash)
