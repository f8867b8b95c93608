"""Property tests: the validators take any Unicode a person (or an attacker) can send.

Emoji and ZWJ sequences, right-to-left text and bidi controls, combining marks, NUL and other
C0/C1 controls, lone surrogates (which JSON's ``\\ud800`` escapes produce), full-width forms,
and megabyte strings. Each validator either returns a value that is encodable as UTF-8 and
within the SPEC's limits, or raises its documented error: ``ValidationError`` (the API's 400),
``PayloadTooLargeError`` for an over-long body (413), ``InvalidNumberError`` for ticket numbers.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.domain import numbers
from chalicelib.domain.categories import Taxonomy, load_taxonomy
from chalicelib.domain.feedback import (
    DESCRIPTION_MAX,
    LOCATION_MAX,
    NAME_MAX,
    SUBJECT_MAX,
    Submission,
    parse_submission,
)
from chalicelib.domain.text import clean_text
from chalicelib.errors import PayloadTooLargeError, ValidationError
from chalicelib.http import MAX_BODY_BYTES, MAX_JSON_DEPTH, parse_json_body

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters chosen to hurt: bidi overrides and isolates, zero-width joiners and spaces, the
# BOM, line and paragraph separators, combining marks, NUL, C1 controls, lone surrogates,
# full-width digits and letters, a 4-byte emoji, Hangul jamo that NFC composes, and a ligature.
NASTY = [
    "\u202e",
    "\u2066",
    "\u200d",
    "\u200b",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\u0301",
    "\u0000",
    "\u0085",
    "\u009b",
    "\ud800",
    "\udfff",
    "\uff11",
    "\uff21",
    "\U0001f469\u200d\U0001f4bb",
    "\u1100\u1161",
    "\ufb01",
    "\r\n",
    "\r",
    "\t",
    "\x7f",
    "\u05d0",
    "\u0627",
]
nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=40).map(
    "".join
)
any_text = st.one_of(st.text(), nasty_text)


def taxonomy() -> Taxonomy:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "api/chalicelib/data/categories.json"
    return load_taxonomy(json.loads(path.read_text(encoding="utf-8")))


TAXONOMY = taxonomy()


def assert_clean(value: str, *, multiline: bool) -> None:
    value.encode("utf-8")  # raises on a lone surrogate
    assert value == unicodedata.normalize("NFC", value)
    assert value == value.strip()
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            assert multiline, repr(ch)
            assert ch in "\n\t", repr(ch)
    assert "\r" not in value
    if not multiline:
        assert "\u2028" not in value
        assert "\u2029" not in value


# -- clean_text -----------------------------------------------------------------------------


@SETTINGS
@given(any_text, st.booleans())
@example("\ud800\udc00", False)  # a surrogate *pair* in a str: two lone surrogates, both dropped
@example("e\u0000\u0301", True)  # the combining mark composes across a dropped control
def test_clean_text_output_is_clean_utf8(value: str, multiline: bool) -> None:
    cleaned = clean_text(value, multiline=multiline)
    assert_clean(cleaned, multiline=multiline)


@SETTINGS
@given(any_text, st.booleans())
def test_clean_text_is_idempotent(value: str, multiline: bool) -> None:
    once = clean_text(value, multiline=multiline)
    assert clean_text(once, multiline=multiline) == once


def test_clean_text_handles_a_megabyte_quickly() -> None:
    value = ("é\u0301\u202e🚧 \u0000" * 200_000)[: 1 << 20]
    cleaned = clean_text(value, multiline=True)
    assert_clean(cleaned, multiline=True)
    assert len(cleaned) < len(value)


# -- parse_submission -----------------------------------------------------------------------

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)
    ),
    max_leaves=8,
)
categories = st.sampled_from(sorted(TAXONOMY.by_code)) | any_text
contact = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(any_text, json_value),
        "email": st.one_of(
            any_text, st.emails().map(str), st.just("ａｎｎ＠ｅｘａｍｐｌｅ．ｏｒｇ")
        ),
        "phone": st.one_of(any_text, st.just("＋４４ ２０ ７９４６ ００００")),
        "consent_to_contact": st.one_of(st.booleans(), json_value),
    },
)
submission = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["complaint", "praise", "report"]) | json_value,
        "category": categories,
        "subject": any_text | st.text(min_size=190, max_size=210),
        "description": any_text | st.text(min_size=4990, max_size=5010),
        "location": any_text | st.none(),
        "contact": contact | json_value,
        "consent_to_publish": st.booleans() | json_value,
        "language": st.sampled_from(["en", "zh"]) | json_value,
        "extra\u202e": json_value,
    },
)


def check_submission(s: Submission) -> None:
    assert_clean(s.subject, multiline=False)
    assert_clean(s.description, multiline=True)
    assert 1 <= len(s.subject) <= SUBJECT_MAX
    assert 1 <= len(s.description) <= DESCRIPTION_MAX
    if s.location is not None:
        assert_clean(s.location, multiline=False)
        assert len(s.location) <= LOCATION_MAX
    if s.contact is not None:
        for text in (s.contact.name, s.contact.email, s.contact.phone):
            if text is not None:
                text.encode("utf-8")
        assert s.contact.name is None or len(s.contact.name) <= NAME_MAX
    # The canonical form is what the idempotency digest hashes: it must serialise.
    json.dumps(s.canonical(), ensure_ascii=False).encode("utf-8")


@SETTINGS
@given(st.one_of(submission, json_value))
def test_parse_submission_accepts_or_names_the_fields(payload: Any) -> None:
    try:
        parsed = parse_submission(payload, TAXONOMY)
    except ValidationError as e:
        error = e
    else:
        check_submission(parsed)
        return
    assert error.message
    assert all(isinstance(name, str) for name in error.fields)
    assert all(isinstance(why, str) for why in error.fields.values())


@SETTINGS
@given(any_text, any_text, any_text)
def test_a_valid_shape_with_any_text_is_accepted_or_rejected_cleanly(
    subject: str, description: str, location: str
) -> None:
    payload = {
        "type": "complaint",
        "category": "service-waiting",
        "subject": "S" + subject,
        "description": "D" + description,
        "location": location,
    }
    try:
        parsed = parse_submission(payload, TAXONOMY)
    except ValidationError as e:
        error = e
    else:
        check_submission(parsed)
        return
    assert set(error.fields) <= {"subject", "description", "location"}


@pytest.mark.parametrize(
    ("field", "limit"),
    [("subject", SUBJECT_MAX), ("description", DESCRIPTION_MAX), ("location", LOCATION_MAX)],
)
def test_limits_count_characters_after_normalisation(field: str, limit: int) -> None:
    base = {"type": "inquiry", "category": "service", "subject": "s", "description": "d"}
    # "e" + combining acute is two code points that NFC makes one: the limit is on the result.
    at_limit = parse_submission({**base, field: "e\u0301" * limit}, TAXONOMY)
    assert len(getattr(at_limit, field)) == limit
    with pytest.raises(ValidationError) as over:
        parse_submission({**base, field: "🚧" * (limit + 1)}, TAXONOMY)
    assert field in over.value.fields
    with pytest.raises(ValidationError):
        parse_submission({**base, field: "x" * (1 << 20)}, TAXONOMY)  # a megabyte


# -- parse_number ---------------------------------------------------------------------------


@SETTINGS
@given(st.one_of(any_text, st.text(alphabet=numbers.ALPHABET + "-fbFB iloIO ", max_size=20)))
@example("fb-0000o-00000")
@example("ＦＢ－００００Ｏ－０００００")  # full width
@example("ﬀ" * 32)  # NFKC turns one character into two
@example("\ud800" * 10)
def test_parse_number_returns_a_canonical_number_or_invalid(text: str) -> None:
    try:
        parsed = numbers.parse_number(text, "FB")
    except numbers.InvalidNumberError:
        return
    assert parsed.isascii()
    assert len(parsed) == len("FB-XXXXX-XXXXX")
    assert numbers.parse_number(parsed, "FB") == parsed


@SETTINGS
@given(st.binary(min_size=6, max_size=6))
def test_every_formatted_number_parses_back(raw: bytes) -> None:
    n = numbers.format_number(raw, "FB")
    assert numbers.parse_number(n.lower().replace("-", " "), "FB") == n


def test_parse_number_rejects_a_megabyte_quickly() -> None:
    with pytest.raises(numbers.InvalidNumberError):
        numbers.parse_number("0" * (1 << 20), "FB")


# -- parse_json_body ------------------------------------------------------------------------


def check_body(raw: bytes | str) -> Any:
    try:
        value = parse_json_body(raw)
    except PayloadTooLargeError:
        size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
        assert size > MAX_BODY_BYTES
        return None
    except ValidationError as e:
        error: ValidationError | None = e
    else:
        error = None
    if error is not None:
        assert error.message
        return None
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    assert size <= MAX_BODY_BYTES
    return value


@SETTINGS
@given(st.one_of(st.binary(max_size=300), any_text.map(lambda s: s.encode("utf-8", "replace"))))
def test_parse_json_body_never_fails_unexpectedly(raw: bytes) -> None:
    check_body(raw)


def _all_text(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_all_text(k), *_all_text(v))]
    if isinstance(value, list):
        return [t for v in value for t in _all_text(v)]
    return []


clean_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=8,
).filter(lambda v: not any(_has_surrogate(t) for t in _all_text(v)))


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


@SETTINGS
@given(clean_json)
def test_parsed_json_is_what_was_sent(value: Any) -> None:
    raw = json.dumps(value, ensure_ascii=True).encode()
    assert check_body(raw) == value or len(raw) > MAX_BODY_BYTES


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes: not UTF-8
        b"\x00",
        b'{"a": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        b" " * (MAX_BODY_BYTES + 1),
        b'"' + b"a" * (1 << 20) + b'"',
    ],
)
def test_hostile_bodies_are_400_or_413(raw: bytes) -> None:
    assert check_body(raw) is None or raw == b'{"a": NaN}'


def test_a_body_at_the_limit_is_read() -> None:
    text = '{"a": "' + "x" * (MAX_BODY_BYTES - 9) + '"}'
    assert len(text.encode()) == MAX_BODY_BYTES
    assert parse_json_body(text.encode())["a"].startswith("x")


@SETTINGS
@given(json_value)
@example({"\ud800": 1})
def test_parsed_json_text_is_always_encodable_as_utf8(value: Any) -> None:
    raw = json.dumps(value, ensure_ascii=True).encode()  # lone surrogates become \ud800 escapes
    parsed = check_body(raw)
    for text in _all_text(parsed):
        text.encode("utf-8")
