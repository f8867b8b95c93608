"""Choosing the response language from ``Accept-Language`` (RFC 9110 §12.5.4).

Ranges are weighed by their q-values; ``zh``, ``zh-CN``, ``zh-Hans``, ``zh-SG`` (and any other
Chinese range) select Simplified Chinese; English is the default and the answer to ``*``.

>>> best_language("fr;q=1, zh-Hans;q=0.8, en;q=0.5")
'zh'
>>> best_language("zh;q=0, en")
'en'
>>> best_language(None)
'en'
"""

from __future__ import annotations

SUPPORTED = ("en", "zh")
DEFAULT = "en"
_MAX_HEADER = 1024
_MAX_RANGES = 32


def _quality(params: list[str]) -> float | None:
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() != "q":
            continue
        try:
            q = float(value.strip())
        except ValueError:
            return None
        if not 0.0 <= q <= 1.0:
            return None
    return q


def _supported(tag: str) -> str | None:
    primary = tag.split("-", 1)[0]
    if primary == "*":
        return DEFAULT
    if primary in SUPPORTED:
        return primary
    return None


def best_language(header: str | None) -> str:
    """The supported language the header prefers most; ``en`` when none is acceptable."""
    if not header or len(header) > _MAX_HEADER:
        return DEFAULT
    candidates: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for position, part in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, *params = part.strip().lower().split(";")
        tag = tag.strip()
        q = _quality(params)
        language = _supported(tag) if tag else None
        if language is None or q is None:
            continue
        if q == 0.0:
            if tag != "*":
                refused.add(language)
            continue
        # Highest q first; equal q-values keep the order of the header.
        candidates.append((q, -position, language))
    for _q, _position, language in sorted(candidates, reverse=True):
        if language not in refused:
            return language
    return DEFAULT
