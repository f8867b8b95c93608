import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.categories import load_taxonomy
from chalicelib.domain.feedback import (
    normalise_email,
    normalise_phone,
    parse_submission,
)
from chalicelib.domain.text import clean_text
from chalicelib.errors import ValidationError

DATA = Path(__file__).resolve().parents[2] / "api" / "chalicelib" / "data"
TAXONOMY = load_taxonomy(json.loads((DATA / "categories.json").read_text()))


def valid(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "complaint",
        "category": "service",
        "subject": "Queue too long",
        "description": "Waited two hours.",
    }
    body.update(changes)
    return body


def fields_of(payload: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_submission(payload, TAXONOMY)
    return info.value.fields


def test_clean_text_normalises_and_strips_controls() -> None:
    assert clean_text("  Cafe\u0301\u0000\u0007 ") == "Café"
    assert clean_text("a\r\nb\tc", multiline=True) == "a\nb\tc"
    assert clean_text("a\nb") == "ab"
    assert clean_text("x\ud800y") == "xy"


@settings(max_examples=200)
@given(st.text())
def test_clean_text_output_is_always_encodable_and_control_free(value: str) -> None:
    out = clean_text(value, multiline=True)
    out.encode("utf-8")
    assert all(ch in "\n\t" or ord(ch) >= 32 for ch in out if ord(ch) < 160)


def test_valid_submission_is_normalised() -> None:
    s = parse_submission(
        valid(
            subject="  Cafe\u0301 ",
            contact={"email": "Ann@Example.COM", "phone": "+86 138-0013-8000"},
            language="zh",
        ),
        TAXONOMY,
    )
    assert s.subject == "Café"
    assert s.contact is not None
    assert s.contact.email == "Ann@example.com"
    assert s.contact.phone == "+8613800138000"
    assert s.language == "zh"


def test_empty_contact_becomes_none() -> None:
    assert parse_submission(valid(contact={"name": "  "}), TAXONOMY).contact is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (valid(type="rant"), "type"),
        (valid(type=None), "type"),
        (valid(category="nope"), "category"),
        (valid(category=["service"]), "category"),
        (valid(subject=""), "subject"),
        (valid(subject="\u0000\u0001"), "subject"),
        (valid(subject="x" * 201), "subject"),
        (valid(subject=5), "subject"),
        (valid(description="y" * 5001), "description"),
        (valid(location="z" * 201), "location"),
        (valid(contact="me@example.com"), "contact"),
        (valid(contact={"email": "not-an-email"}), "contact.email"),
        (valid(contact={"phone": "12"}), "contact.phone"),
        (valid(contact={"phone": "call me"}), "contact.phone"),
        (valid(contact={"fax": "1"}), "contact.fax"),
        (
            valid(contact={"email": "a@b.co", "consent_to_contact": "yes"}),
            "contact.consent_to_contact",
        ),
        (valid(consent_to_publish="true"), "consent_to_publish"),
        (valid(language="fr"), "language"),
        (valid(typo_field=1), "typo_field"),
    ],
)
def test_each_bad_field_is_named(payload: dict[str, object], field: str) -> None:
    assert field in fields_of(payload)


def test_limits_count_characters_not_bytes() -> None:
    parse_submission(valid(subject="投" * 200, description="诉" * 5000), TAXONOMY)


def test_non_object_body_is_rejected() -> None:
    with pytest.raises(ValidationError):
        parse_submission(["not", "an", "object"], TAXONOMY)


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("a@b.co", True),
        ("a b@c.de", False),
        ("a@b", False),
        ("@b.co", False),
        ("x" * 250 + "@b.co", False),
    ],
)
def test_email_rules(email: str, ok: bool) -> None:
    assert (normalise_email(email) is not None) is ok


def test_full_width_phone_digits_are_folded() -> None:
    assert normalise_phone("１３８００１３８０００") == "13800138000"
