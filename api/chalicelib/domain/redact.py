"""Detection and masking of personal data in text meant for the public board (SPEC §5).

What is found and masked:

- **e-mail addresses**, also written with a full-width ``＠`` or as ``name (at) example (dot) org``;
- **phone numbers**: mainland China mobiles (``138 0013 8000``, ``+86-138-0013-8000``),
  landlines with an area code (``010-6552 9988``, ``(021) 6123 4567``), international numbers
  (``+44 20 7946 0958``, ``0049 30 1234567``), North American ``(555) 123-4567``, and any
  stand-alone run of 7 to 15 digits (local numbers, account numbers: masking them errs on the
  safe side);
- **Chinese resident ID numbers**: 18 characters (17 digits and a check digit or ``X``, optionally
  grouped 6-8-4) whose ISO 7064 MOD 11-2 check is right. An 18-digit run that fails the check is
  not an ID number and is left alone;
- **links carrying secrets**: a URL with a query or fragment parameter named like a credential
  (``token``, ``key``, ``sig``, ``session``, ``auth``, ``code``, ``password``...) or a long random
  path segment; the whole link is removed;
- **the submitter's own contact details**, given as ``literals`` (name, e-mail, phone): every
  occurrence, case-insensitive.

Full-width digits and letters are folded to ASCII for matching (positions are kept, so the
findings point into the original text). Overlapping findings merge: no part of a match is ever
left visible. The masks contain no digits or ``@``, so redacting a redacted text finds nothing.

Example::

    >>> r = redact("Call 138 0013 8000 or mail li@example.cn")
    >>> r.text
    'Call [phone number removed] or mail [email removed]'
    >>> [f.kind for f in r.findings]
    ['phone', 'email']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

MASKS = {
    "url_token": "[link with access token removed]",
    "email": "[email removed]",
    "id_number": "[ID number removed]",
    "contact": "[contact details removed]",
    "phone": "[phone number removed]",
}
# When findings overlap, the merged span takes the kind listed first here.
_PRIORITY = {kind: i for i, kind in enumerate(MASKS)}

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
SECRET_PARAM_WORDS = (
    "token",
    "key",
    "sig",
    "session",
    "sess",
    "auth",
    "secret",
    "password",
    "passwd",
    "pwd",
    "code",
    "ticket",
    "jwt",
    "credential",
    "otp",
)
MIN_LITERAL = 3  # shorter contact strings (initials) would mask ordinary words


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind, where it is in the original text, and the text."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Redaction:
    """A text before and after masking, and what was masked."""

    original: str
    text: str
    findings: tuple[Finding, ...]


def _fold(text: str) -> str:
    """Full-width forms to ASCII, one character for one (so positions stay valid)."""
    out = []
    for ch in text:
        if ord(ch) < 128:
            out.append(ch)
            continue
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a Chinese resident ID's first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def is_valid_id_number(text: str) -> bool:
    """18 characters, 17 digits and a correct check character (digit or X)."""
    digits = re.sub(r"[ \-]", "", text).upper()
    if len(digits) != 18 or not digits[:17].isascii() or not digits[:17].isdigit():
        return False
    return digits[17] == id_check_char(digits[:17])


_URL = re.compile(r"(?i)(?:https?://|www\.)[^\s<>\"'`\u3000-\u303f\uff01-\uff0f]+")
_URL_TRAIL = ".,;:!?)]}'\""
_LONG_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]{32,}$")

_DOT = r"(?:\.|\s*[\(\[\{]\s*dot\s*[\)\]\}]\s*|\s+dot\s+)"
_EMAIL = re.compile(
    r"(?i)(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-]"
    + r"(?:@|\s*[\(\[\{]\s*at\s*[\)\]\}]\s*)"
    + r"[A-Za-z0-9\-]+(?:"
    + _DOT
    + r"[A-Za-z0-9\-]+)*"
    + _DOT
    + r"[A-Za-z]{2,}(?![A-Za-z0-9\-])"
)
# "name at example dot com" only with both words spelt out, so "meet at noon" is left alone.
_EMAIL_SPELT = re.compile(
    r"(?i)(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+\s+at\s+[A-Za-z0-9\-]+"
    r"(?:\s+dot\s+[A-Za-z0-9\-]+)+(?![A-Za-z0-9\-])"
)
_ID = re.compile(r"(?<![0-9A-Za-z])\d{6}[ \-]?\d{8}[ \-]?\d{3}[\dXx](?![0-9A-Za-z])")
_PHONES = (
    # International: + or 00, a country code, then separated digit groups (8 to 15 digits in
    # all; without separators the run-of-digits rule below applies).
    re.compile(
        r"(?<![\w+])(?:\+|00)\s?[1-9]\d{0,2}"
        r"(?:[ \t\-.]?\(\d{1,5}\)\d{0,8}|[ \t\-.]\d{1,8}){1,7}(?![\w])"
    ),
    # Mainland China mobile, optionally with 86.
    re.compile(r"(?<!\d)(?:86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?!\d)"),
    # Landline with an area code starting 0, grouped or in parentheses, optional extension.
    re.compile(
        r"(?<!\d)(?:\(0\d{1,4}\)[ \-]?|0\d{1,4}[ \-])\d{3,4}[ \-]?\d{3,4}"
        r"(?:\s*(?:ext\.?|x|转|分机)\s*\d{1,6})?(?!\d)"
    ),
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567.
    re.compile(r"(?<!\d)(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?!\d)"),
    # Any stand-alone run of 7 to 15 digits (not part of a decimal number).
    re.compile(r"(?<![\d.,])\+?\d{7,15}(?!\d|[.,]\d)"),
)
_PHONE_DIGITS = (8, 15)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _international(text: str) -> str | None:
    """An international number's text cut back, group by group, to at most 15 digits after the
    ``+`` or ``00`` (a longer match ran on into other digits); None if fewer than 8 remain."""
    lead = 2 if text.startswith("00") else 1
    while _digits(text[lead:]) > _PHONE_DIGITS[1]:
        cut = max(text.rfind(sep) for sep in " \t-.(")
        if cut <= lead:
            return None
        text = text[:cut].rstrip(" \t-.(")
    return text if _digits(text[lead:]) >= _PHONE_DIGITS[0] else None


def _url_has_secret(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return True  # unparseable: do not risk it
    params = parse_qsl(parts.query, keep_blank_values=True)
    params += parse_qsl(parts.fragment, keep_blank_values=True)
    for name, _value in params:
        lowered = name.lower()
        if any(word in lowered for word in SECRET_PARAM_WORDS):
            return True
    for segment in parts.path.split("/"):
        if _LONG_SEGMENT.match(segment) and any(c.isdigit() for c in segment):
            return True
    return False


def _candidates(folded: str, literals: Iterable[str]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for m in _URL.finditer(folded):
        url = m.group(0).rstrip(_URL_TRAIL)
        if _url_has_secret(url):
            found.append((m.start(), m.start() + len(url), "url_token"))
    for pattern in (_EMAIL, _EMAIL_SPELT):
        found.extend((m.start(), m.end(), "email") for m in pattern.finditer(folded))
    for m in _ID.finditer(folded):
        if is_valid_id_number(m.group(0)):
            found.append((m.start(), m.end(), "id_number"))
    intl, *others = _PHONES
    position = 0
    while (match := intl.search(folded, position)) is not None:
        text = _international(match.group(0).rstrip(" -."))
        if text:
            found.append((match.start(), match.start() + len(text), "phone"))
        # Search again right after what was kept: a cut-back match may have run into the next
        # number.
        position = match.start() + max(1, len(text or ""))
    for pattern in others:
        for m in pattern.finditer(folded):
            text = m.group(0).rstrip(" -.")
            found.append((m.start(), m.start() + len(text), "phone"))
    lowered = folded.lower()
    for literal in {_fold(x).strip().lower() for x in literals if x}:
        if len(literal) < MIN_LITERAL:
            continue
        start = lowered.find(literal)
        while start != -1:
            found.append((start, start + len(literal), "contact"))
            start = lowered.find(literal, start + 1)
    return found


def find(text: str, literals: Iterable[str] = ()) -> list[Finding]:
    """Every piece of personal data in ``text``, overlapping matches merged, in text order."""
    folded = _fold(text)
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(_candidates(folded, literals)):
        if merged and start < merged[-1][1]:
            s, e, k = merged[-1]
            merged[-1] = (s, max(e, end), kind if _PRIORITY[kind] < _PRIORITY[k] else k)
        else:
            merged.append((start, end, kind))
    return [Finding(kind, s, e, text[s:e]) for s, e, kind in merged]


def redact(text: str, literals: Iterable[str] = ()) -> Redaction:
    """``text`` with every finding replaced by its mask (see ``MASKS``)."""
    findings = find(text, literals)
    out, position = [], 0
    for f in findings:
        out.append(text[position : f.start])
        out.append(MASKS[f.kind])
        position = f.end
    out.append(text[position:])
    return Redaction(text, "".join(out), tuple(findings))
