"""Redaction of personal data in public text: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from chalicelib.domain.redact import MASKS, find, id_check_char, is_valid_id_number, redact

# Text around the personal data: words, CJK, punctuation, but no digits, @ or URLs of its own.
FILLER = st.lists(
    st.sampled_from([*"abcdefghij ,;!?()\n反馈问题谢谢。，：", "the ", "问题 "]), max_size=12
).map("".join)
SEPARATORS = st.sampled_from(["", " ", "-"])


def valid_id(first17: str) -> str:
    return first17 + id_check_char(first17)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["110105", "310104", "440305", "510107"]))
    year = draw(st.integers(1930, 2020))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    seq = draw(st.integers(0, 999))
    return valid_id(f"{area}{year:04d}{month:02d}{day:02d}{seq:03d}")


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    second = draw(st.sampled_from("3456789"))
    rest = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    sep = draw(SEPARATORS)
    prefix = draw(st.sampled_from(["", "+86 ", "86-", "+86"]))
    return f"{prefix}1{second}{rest[0]}{sep}{rest[1:5]}{sep}{rest[5:]}"


@st.composite
def international(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(["1", "33", "44", "49", "61", "852", "886"]))
    groups = draw(
        st.lists(st.text(alphabet="0123456789", min_size=2, max_size=4), min_size=3, max_size=4)
    )
    sep = draw(st.sampled_from([" ", "-", "."]))
    lead = draw(st.sampled_from(["+", "00"]))
    return f"{lead}{country} " + sep.join(groups)


@st.composite
def emails(draw: st.DrawFn) -> str:
    word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
    local = draw(word) + draw(st.sampled_from(["", ".", "_", "+", "-"])) + draw(word)
    domain = draw(word) + draw(st.sampled_from(["", "-mail"]))
    tld = draw(st.sampled_from(["com", "org", "cn", "co.uk", "museum"]))
    return f"{local}@{domain}.{tld}"


@st.composite
def token_urls(draw: st.DrawFn) -> tuple[str, str]:
    secret = draw(st.text(alphabet="abcdefABCDEF0123456789_-", min_size=6, max_size=40))
    name = draw(
        st.sampled_from(
            [
                "token",
                "access_token",
                "key",
                "api_key",
                "sig",
                "session",
                "auth",
                "X-Amz-Signature",
                "code",
            ]
        )
    )
    host = draw(st.sampled_from(["example.org", "city.example.cn", "www.example.com"]))
    path = draw(st.sampled_from(["", "/reset", "/a/b.html"]))
    before = draw(st.sampled_from(["", "lang=en&"]))
    return f"https://{host}{path}?{before}{name}={secret}", secret


def embed(text: str, before: str, after: str) -> str:
    return f"{before} {text} {after}"


@given(id_numbers(), FILLER, FILLER)
@example("11010519491231002X", "ID:", "")
def test_valid_id_numbers_are_always_masked(number: str, before: str, after: str) -> None:
    r = redact(embed(number, before, after))
    assert number not in r.text
    assert [f.kind for f in r.findings] == ["id_number"]
    assert MASKS["id_number"] in r.text


@given(id_numbers(), st.sampled_from("0123456789X"))
def test_18_digits_with_a_wrong_check_digit_are_not_id_numbers(number: str, wrong: str) -> None:
    assume(wrong != number[-1])
    bad = number[:17] + wrong
    assert not is_valid_id_number(bad)
    assert find(f"code {bad} here") == []


def test_grouped_id_number() -> None:
    n = valid_id("44030519800101123")
    grouped = f"{n[:6]} {n[6:14]} {n[14:]}"
    assert redact(f"身份证 {grouped}。").text == f"身份证 {MASKS['id_number']}。"


@given(mobiles(), FILLER, FILLER)
def test_chinese_mobiles_are_masked(phone: str, before: str, after: str) -> None:
    r = redact(embed(phone, before, after))
    digits = "".join(c for c in phone if c.isdigit())
    assert digits[-11:] not in "".join(c for c in r.text if c.isdigit())
    assert [f.kind for f in r.findings] == ["phone"]


@given(international(), FILLER, FILLER)
def test_international_numbers_are_masked(phone: str, before: str, after: str) -> None:
    digits = sum(c.isdigit() for c in phone.removeprefix("00"))
    assume(8 <= digits <= 15)
    r = redact(embed(phone, before, after))
    assert not any(c.isdigit() for c in r.text)


@pytest.mark.parametrize(
    "phone",
    [
        "010-6552 9988",
        "(021) 6123 4567",
        "0755-12345678",
        "0571 8888 6666 转 123",
        "+44 20 7946 0958",
        "(555) 123-4567",
        "555.123.4567",
        "62345678",
        "１３８００１３８０００",
    ],
)
def test_phone_formats(phone: str) -> None:
    r = redact(f"Call {phone} today")
    assert r.text == f"Call {MASKS['phone']} today"


@given(emails(), FILLER, FILLER)
def test_emails_are_masked(email: str, before: str, after: str) -> None:
    r = redact(embed(email, before, after))
    assert email not in r.text
    assert "@" not in r.text
    assert [f.kind for f in r.findings] == ["email"]


@pytest.mark.parametrize(
    "email",
    [
        "li＠example．cn",
        "li (at) example (dot) org",
        "li [at] example.org",
        "wang at example dot com",
    ],
)
def test_obfuscated_emails(email: str) -> None:
    assert redact(f"mail {email} please").text == f"mail {MASKS['email']} please"


@given(token_urls(), FILLER, FILLER)
def test_links_with_secrets_are_removed(
    url_secret: tuple[str, str], before: str, after: str
) -> None:
    url, secret = url_secret
    r = redact(embed(url, before, after))
    assert secret not in r.text
    assert MASKS["url_token"] in r.text


def test_ordinary_links_stay() -> None:
    text = "See https://city.example/news?id=5&page=2 for details."
    assert redact(text).text == text


def test_contact_literals_are_masked_case_insensitively() -> None:
    r = redact("Thanks to Zhang Wei and ZHANG WEI; Li too.", ["Zhang Wei", "Li"])
    assert r.text == f"Thanks to {MASKS['contact']} and {MASKS['contact']}; Li too."


@pytest.mark.parametrize(
    "text",
    [
        "We fixed 3 lamps on 2024-05-01 at 10:30 for 1,500 yuan.",
        "Ticket FB-3K7Q-M9X2 was closed.",
        "Pi is 3.14159265 and that is fine.",
        "Meet at noon near the station.",
        "{{ 7*7 }} <script>alert(1)</script>",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text).text == text


@given(
    st.lists(
        st.one_of(
            FILLER,
            id_numbers(),
            mobiles(),
            emails(),
            international(),
            token_urls().map(lambda p: p[0]),
        ),
        max_size=6,
    )
)
@settings(max_examples=200)
def test_redaction_is_idempotent_and_findings_point_into_the_original(parts: list[str]) -> None:
    text = " ".join(parts)
    r = redact(text)
    assert redact(r.text).findings == ()
    for f in r.findings:
        assert text[f.start : f.end] == f.text
    assert all(a.end <= b.start for a, b in zip(r.findings, r.findings[1:], strict=False))


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="@＠:/."),
        max_size=200,
    )
)
def test_text_without_digits_at_signs_or_links_is_unchanged(text: str) -> None:
    assert redact(text).text == text
