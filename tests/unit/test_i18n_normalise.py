"""Width folding of typed ticket numbers and phone numbers, and the choice of language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import numbers
from chalicelib.domain.feedback import normalise_phone
from chalicelib.i18n.message import Message, render
from chalicelib.i18n.negotiate import best_language

DASHES = ["-", "－", "‐", "‑", "–", "—", "−", "ー", " ", "　", ""]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(
    raw=st.binary(min_size=6, max_size=6),
    widths=st.lists(st.booleans(), min_size=16, max_size=16),
    lower=st.lists(st.booleans(), min_size=16, max_size=16),
    dash=st.sampled_from(DASHES),
)
def test_any_mix_of_widths_cases_and_dashes_finds_the_number(
    raw: bytes, widths: list[bool], lower: list[bool], dash: str
) -> None:
    number = numbers.format_number(raw, "FB")
    typed = []
    for i, original in enumerate(number.replace("-", dash)):
        ch = original.lower() if lower[i % 16] else original
        typed.append(full_width(ch) if widths[i % 16] else ch)
    assert numbers.parse_number("".join(typed), "FB") == number


@given(digits=st.text("0123456789", min_size=6, max_size=20))
def test_full_width_phone_numbers_fold_to_ascii_digits(digits: str) -> None:
    typed = "＋（" + full_width(digits[:3]) + "）　" + full_width(digits[3:])
    assert normalise_phone(typed) == "+" + digits


@pytest.mark.parametrize(
    "typed", ["（０１０）１２３４－５６７８", "010—1234—5678", "010 ー 1234 5678"]
)
def test_chinese_punctuation_in_phone_numbers(typed: str) -> None:
    assert normalise_phone(typed) == "01012345678"


def test_text_that_is_not_a_phone_number_stays_invalid() -> None:
    assert normalise_phone("电话：一二三四五六") is None


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("zh", "zh"),
        ("ZH-hans-CN", "zh"),
        ("zh-TW;q=0.3, en;q=0.2", "zh"),
        ("en, zh", "en"),
        ("zh;q=0.5, en;q=0.5", "zh"),
        ("zh;q=0, *;q=0.1", "en"),
        ("en;q=0, zh;q=0", "en"),
        ("zh;q=abc, en", "en"),
        ("zh;q=2", "en"),
        ("x" * 2000, "en"),
    ],
)
def test_accept_language(header: str | None, language: str) -> None:
    assert best_language(header) == language


@given(st.text(max_size=200))
def test_accept_language_never_fails(header: str) -> None:
    assert best_language(header) in ("en", "zh")


def test_a_message_is_english_text_that_renders_in_chinese() -> None:
    m = Message("field.phone", min=6, max=20)
    assert m == "must be a phone number of 6 to 20 digits"
    assert render(m, "zh") == "必须是 6 至 20 位数字的电话号码"
    assert render(m, "fr") == m
    assert isinstance(m, str)
