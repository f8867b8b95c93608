"""Malformed requests: each gets the right 4xx in the error format, never a 5xx, nothing stored."""

import json
from typing import Any

import pytest

from tests.functional.conftest import Api

GOOD = {
    "type": "complaint",
    "category": "service",
    "subject": "Subject",
    "description": "Description",
}


def with_(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes})


def without(field: str) -> str:
    return json.dumps({k: v for k, v in GOOD.items() if k != field})


JSON = "application/json"
# (case id, body, content type, extra headers, expected status, expected error code, field)
POSTS: list[tuple[str, Any, str, dict[str, str], int, str, str | None]] = [
    ("not-json", "{type: complaint}", JSON, {}, 400, "validation_error", None),
    ("truncated-json", '{"type": "complaint"', JSON, {}, 400, "validation_error", None),
    ("empty-body", "", JSON, {}, 400, "validation_error", None),
    ("json-array", "[1, 2]", JSON, {}, 400, "validation_error", None),
    ("json-string", '"hello"', JSON, {}, 400, "validation_error", None),
    ("json-null", "null", JSON, {}, 400, "validation_error", None),
    ("invalid-utf8", b'{"subject": "\xff\xfe"}', JSON, {}, 400, "validation_error", None),
    ("deep-nesting", "[" * 5000 + "]" * 5000, JSON, {}, 400, "validation_error", None),
    ("missing-type", without("type"), JSON, {}, 400, "validation_error", "type"),
    ("missing-category", without("category"), JSON, {}, 400, "validation_error", "category"),
    ("missing-subject", without("subject"), JSON, {}, 400, "validation_error", "subject"),
    (
        "missing-description",
        without("description"),
        JSON,
        {},
        400,
        "validation_error",
        "description",
    ),
    ("type-number", with_(type=3), JSON, {}, 400, "validation_error", "type"),
    ("type-unknown", with_(type="rant"), JSON, {}, 400, "validation_error", "type"),
    ("category-unknown", with_(category="zzz"), JSON, {}, 400, "validation_error", "category"),
    ("subject-list", with_(subject=["a"]), JSON, {}, 400, "validation_error", "subject"),
    ("subject-too-long", with_(subject="s" * 201), JSON, {}, 400, "validation_error", "subject"),
    (
        "subject-only-controls",
        with_(subject="\u0000\u0008"),
        JSON,
        {},
        400,
        "validation_error",
        "subject",
    ),
    ("subject-blank", with_(subject="   "), JSON, {}, 400, "validation_error", "subject"),
    (
        "description-too-long",
        with_(description="d" * 5001),
        JSON,
        {},
        400,
        "validation_error",
        "description",
    ),
    (
        "description-object",
        with_(description={"a": 1}),
        JSON,
        {},
        400,
        "validation_error",
        "description",
    ),
    ("location-too-long", with_(location="l" * 201), JSON, {}, 400, "validation_error", "location"),
    ("contact-string", with_(contact="x@y.z"), JSON, {}, 400, "validation_error", "contact"),
    (
        "contact-bad-email",
        with_(contact={"email": "nope"}),
        JSON,
        {},
        400,
        "validation_error",
        "contact.email",
    ),
    (
        "contact-bad-phone",
        with_(contact={"phone": "12ab"}),
        JSON,
        {},
        400,
        "validation_error",
        "contact.phone",
    ),
    (
        "contact-unknown-field",
        with_(contact={"fax": "1"}),
        JSON,
        {},
        400,
        "validation_error",
        "contact.fax",
    ),
    (
        "consent-string",
        with_(consent_to_publish="yes"),
        JSON,
        {},
        400,
        "validation_error",
        "consent_to_publish",
    ),
    ("language-unknown", with_(language="xx"), JSON, {}, 400, "validation_error", "language"),
    ("unknown-field", with_(subjcet="typo"), JSON, {}, 400, "validation_error", "subjcet"),
    ("oversize-body", with_(description="d" * 70_000), JSON, {}, 413, "payload_too_large", None),
    ("text-plain", with_(), "text/plain", {}, 415, "unsupported_media_type", None),
    (
        "form-encoded",
        "type=complaint",
        "application/x-www-form-urlencoded",
        {},
        415,
        "unsupported_media_type",
        None,
    ),
    (
        "idempotency-key-too-long",
        with_(),
        JSON,
        {"Idempotency-Key": "k" * 300},
        400,
        "validation_error",
        "Idempotency-Key",
    ),
    (
        "idempotency-key-spaces",
        with_(),
        JSON,
        {"Idempotency-Key": "a b"},
        400,
        "validation_error",
        "Idempotency-Key",
    ),
]


def assert_error_format(r: Any, status: int, code: str, field: str | None) -> None:
    assert r.status_code == status, r.body
    assert r.headers["Content-Type"].startswith("application/json")
    data = json.loads(r.body)
    assert set(data) == {"error"}
    assert set(data["error"]) == {"code", "message", "fields"}
    assert data["error"]["code"] == code
    assert data["error"]["message"]
    assert "Traceback" not in r.body.decode("utf-8", "replace")
    if field is not None:
        assert field in data["error"]["fields"], data


@pytest.mark.parametrize(
    ("body", "ctype", "headers", "status", "code", "field"),
    [p[1:] for p in POSTS],
    ids=[p[0] for p in POSTS],
)
def test_bad_submission(
    api: Api,
    body: Any,
    ctype: str,
    headers: dict[str, str],
    status: int,
    code: str,
    field: str | None,
) -> None:
    before = api.raw_dump()
    r = api.client.http.post("/v1/feedback", headers={"Content-Type": ctype, **headers}, body=body)
    assert_error_format(r, status, code, field)
    assert api.raw_dump() == before  # nothing stored, nothing changed


def test_bad_lookups(api: Api) -> None:
    created = json.loads(api.post("/v1/feedback", GOOD).body)
    number, key = created["number"], created["key"]
    typo_char = "0" if number[-1] != "0" else "1"
    wrong_last = "0" if key[-1] != "0" else "1"
    cases = [
        (f"/v1/tickets/{number[:-1]}{typo_char}", {}, 400, "invalid_number"),
        ("/v1/tickets/hello", {}, 400, "invalid_number"),
        ("/v1/tickets/FB-00000-00000", {}, 404, "not_found"),
        ("/v1/tickets/" + "9" * 80, {}, 400, "invalid_number"),
        (f"/v1/tickets/{number}", {"X-Ticket-Key": "wrong-key"}, 403, "invalid_key"),
        (f"/v1/tickets/{number}", {"X-Ticket-Key": key[:-1] + wrong_last}, 403, "invalid_key"),
        (f"/v1/tickets/{number}", {"X-Ticket-Key": "k" * 100}, 400, "validation_error"),
        (f"/v1/tickets/{number}", {"X-Ticket-Key": "   "}, 400, "validation_error"),
    ]
    for path, headers, status, code in cases:
        assert_error_format(api.get(path, **headers), status, code, None)
    # A wrong key reveals nothing beyond the error.
    r = api.get(f"/v1/tickets/{number}", **{"X-Ticket-Key": "wrong-key"})
    assert "timeline" not in r.body.decode()


def test_wrong_method_is_405_in_the_error_format(api: Api) -> None:
    r = api.client.http.delete("/v1/feedback")
    assert_error_format(r, 405, "method_not_allowed", None)


def test_there_are_at_least_thirty_malformed_cases() -> None:
    assert len(POSTS) + 8 >= 30
