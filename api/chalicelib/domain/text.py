"""Text hygiene for everything a person types: normalise, strip controls, measure."""

from __future__ import annotations

import unicodedata

# Kept in multi-line text; every other control character (Unicode category Cc) is dropped.
_MULTILINE_KEEP = frozenset("\n\t")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC-normalise, drop control characters and lone surrogates, unify newlines, trim.

    >>> clean_text("  Caf\\u0065\\u0301\\u0000 ")
    'Café'
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs":
            continue  # a lone surrogate cannot be stored or encoded as UTF-8
        if category == "Cc" and not (multiline and ch in _MULTILINE_KEEP):
            continue
        if not multiline and ch in "\u2028\u2029":
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).strip()


def fold_width(value: str) -> str:
    """Fold full-width forms (digits, Latin letters, punctuation) to their ASCII counterparts."""
    return unicodedata.normalize("NFKC", value)
