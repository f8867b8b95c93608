import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import numbers

PREFIX = "FB"
random_bytes = st.binary(min_size=6, max_size=6)


@given(random_bytes)
def test_number_round_trips_in_any_case_and_spacing(raw: bytes) -> None:
    number = numbers.format_number(raw, PREFIX)
    assert re.fullmatch(r"FB-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", number)
    assert numbers.parse_number(number, PREFIX) == number
    assert numbers.parse_number(number.lower(), PREFIX) == number
    assert numbers.parse_number(number.replace("-", ""), PREFIX) == number
    assert numbers.parse_number(number[3:], PREFIX) == number
    assert numbers.parse_number(" " + number.replace("-", " ") + " ", PREFIX) == number


@given(random_bytes, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=31))
def test_every_single_symbol_typo_is_caught(raw: bytes, position: int, shift: int) -> None:
    number = numbers.format_number(raw, PREFIX)
    body = number[3:].replace("-", "")
    wrong = numbers.ALPHABET[(numbers.ALPHABET.index(body[position]) + shift) % 32]
    typo = body[:position] + wrong + body[position + 1 :]
    with pytest.raises(numbers.InvalidNumberError):
        numbers.parse_number(typo, PREFIX)


@given(random_bytes, st.integers(min_value=0, max_value=8))
def test_adjacent_swaps_are_caught(raw: bytes, position: int) -> None:
    body = numbers.format_number(raw, PREFIX)[3:].replace("-", "")
    a, b = body[position], body[position + 1]
    if a == b:
        return
    swapped = body[:position] + b + a + body[position + 2 :]
    with pytest.raises(numbers.InvalidNumberError):
        numbers.parse_number(swapped, PREFIX)


def test_number_carries_45_random_bits() -> None:
    # Different random inputs in the top 45 bits give different numbers.
    a = numbers.format_number(bytes([0] * 6), PREFIX)
    b = numbers.format_number(bytes([0, 0, 0, 0, 0, 0b1000]), PREFIX)
    assert a != b


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("fb-0000o-00000", "FB-00000-00000"),  # O read as zero
        ("FB-0000-000000", "FB-00000-00000"),  # dashes anywhere
        ("ＦＢ－００００００００００", "FB-00000-00000"),  # full-width
    ],
)
def test_lenient_input(typed: str, expected: str) -> None:
    assert numbers.parse_number(typed, PREFIX) == expected


@pytest.mark.parametrize(
    "bad", ["", "FB", "FB-1234", "FB-00000-000000", "XX-00000-00000-0", "FB-0000U-00000", "💥" * 3]
)
def test_malformed_numbers_are_rejected(bad: str) -> None:
    with pytest.raises(numbers.InvalidNumberError):
        numbers.parse_number(bad, PREFIX)


@settings(max_examples=50)
@given(st.binary(min_size=20, max_size=20))
def test_keys_hash_and_compare(raw: bytes) -> None:
    key = numbers.format_key(raw)
    assert len(key) == 32
    stored = numbers.hash_key(key)
    assert key not in stored
    assert numbers.key_matches(key, stored)
    assert numbers.key_matches(key.lower(), stored)
    other = numbers.format_key(bytes(b ^ 1 for b in raw))
    assert not numbers.key_matches(other, stored)


def _reference_canonical(text: str) -> str:
    """canonical_symbols as first written: NFKC, upper case, then one symbol at a time."""
    import unicodedata

    out = []
    for ch in unicodedata.normalize("NFKC", text).upper():
        if ch in "-_ .\u2010\u2011\u2012\u2013\u2014\u2212\u30fc" or ch.isspace():
            continue
        out.append({"I": "1", "L": "1", "O": "0"}.get(ch, ch))
    return "".join(out)


@settings(max_examples=300)
@given(st.one_of(st.text(st.characters(max_codepoint=127)), st.text()))
def test_canonical_symbols_fast_path_folds_like_the_reference(text: str) -> None:
    assert numbers.canonical_symbols(text) == _reference_canonical(text)


def test_canonical_symbols_of_every_ascii_character() -> None:
    every = "".join(map(chr, range(128)))
    assert numbers.canonical_symbols(every) == _reference_canonical(every)
    assert numbers.canonical_symbols("fb-0000o 0000l\t") == "FB0000000001"


@given(st.text(numbers.ALPHABET, min_size=9, max_size=9))
def test_check_symbol_is_the_weighted_gf32_sum(payload: str) -> None:
    total = 0
    for weight, ch in zip(numbers._WEIGHTS, payload, strict=True):
        total ^= numbers._gf32_mul(weight, numbers.ALPHABET.index(ch))
    assert numbers.check_symbol(payload) == numbers.ALPHABET[total]
