"""Open311 mapping (``domain/open311.py``) and wire formats (``routes/open311_format.py``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import pytest

from chalicelib import deps
from chalicelib.domain import open311
from chalicelib.domain.categories import CategoryConfigError, load_taxonomy
from chalicelib.domain.tickets import STATUSES
from chalicelib.errors import ValidationError
from chalicelib.routes.open311_format import errors_document, render
from tests.support.open311 import from_xml, parse_xml, stringify
from tests.support.tickets import T0, make_ticket, number

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def taxonomy() -> Any:
    return deps.taxonomy()


def form(text: str) -> dict[str, list[str]]:
    return parse_qs(text, keep_blank_values=True)


# --- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("received", "open"),
        ("acknowledged", "open"),
        ("in_progress", "open"),
        ("awaiting_info", "open"),
        ("reopened", "open"),
        ("resolved", "closed"),
        ("closed", "closed"),
        ("rejected", "closed"),
        ("merged", "closed"),
    ],
)
def test_status_mapping(status: str, expected: str) -> None:
    assert open311.open311_status(status) == expected


def test_every_status_has_a_fixed_public_note() -> None:
    assert set(open311.STATUS_NOTES) == set(STATUSES)


# --- services ------------------------------------------------------------------------------


def test_services_are_the_leaf_categories_with_their_group(taxonomy: Any) -> None:
    entries = [open311.service_entry(s, "en") for s in open311.services(taxonomy)]
    codes = [e["service_code"] for e in entries]
    assert "service-waiting" in codes
    assert "other" in codes  # a top-level category without children
    assert "service" not in codes  # a group, not a service
    waiting = next(e for e in entries if e["service_code"] == "service-waiting")
    assert waiting == {
        "service_code": "service-waiting",
        "service_name": "Waiting times",
        "description": "Service: Waiting times",
        "metadata": False,
        "type": "realtime",
        "keywords": "service, waiting",
        "group": "Service",
    }
    hazard = next(e for e in entries if e["service_code"] == "safety-hazard")
    assert hazard["metadata"] is True
    zh = [open311.service_entry(s, "zh") for s in open311.services(taxonomy)]
    assert (
        next(e for e in zh if e["service_code"] == "service-waiting")["service_name"] == "等候时间"
    )


def test_service_definition_lists_the_attributes(taxonomy: Any) -> None:
    hazard = open311.service_by_code(taxonomy, "safety-hazard")
    assert hazard is not None
    definition = open311.service_definition(hazard, "en")
    assert definition["service_code"] == "safety-hazard"
    (attribute,) = definition["attributes"]
    assert attribute["code"] == "hazard_kind"
    assert attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] is True
    assert attribute["variable"] is True
    assert attribute["order"] == 1
    assert attribute["description"] == "What kind of hazard is it?"
    assert {"key": "spill", "name": "Spill or slippery surface"} in attribute["values"]
    waiting = open311.service_by_code(taxonomy, "service-waiting")
    assert waiting is not None
    assert open311.service_definition(waiting, "en")["attributes"] == []


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"code": "x y", "datatype": "string", "description": {"en": "d"}}, "code"),
        ({"code": "x", "datatype": "colour", "description": {"en": "d"}}, "datatype"),
        (
            {"code": "x", "datatype": "string", "description": {"en": "d"}, "required": 1},
            "required",
        ),
        ({"code": "x", "datatype": "singlevaluelist", "description": {"en": "d"}}, "values"),
        (
            {
                "code": "x",
                "datatype": "string",
                "description": {"en": "d"},
                "values": [{"key": "a", "name": {"en": "A"}}],
            },
            "values",
        ),
        ({"code": "x", "datatype": "string"}, "description"),
    ],
)
def test_category_fields_are_validated(field: dict[str, Any], message: str) -> None:
    data = {
        "categories": [
            {"code": "a", "name": {"en": "A"}, "department": "d", "fields": [field]},
        ]
    }
    with pytest.raises(CategoryConfigError, match=message):
        load_taxonomy(data)


# --- a request from a form ----------------------------------------------------------------


def test_a_full_form_maps_onto_the_feedback_model(taxonomy: Any) -> None:
    request = open311.parse_request(
        form(
            "service_code=safety-hazard&lat=51.5074&long=-0.1278&address_string=10+Downing+St"
            "&address_id=A-1&zipcode=SW1A+2AA&email=Ann@Example.ORG&phone=%2B44+20+7946+0958"
            "&first_name=Ann&last_name=Lee&device_id=dev-1&account_id=acc-9"
            "&media_url=https://img.example/1.jpg&description=Glass+on+the+pavement%0Anear+the+gate"
            "&attribute[hazard_kind]=spill&jurisdiction_id=city&return_key=true"
        ),
        taxonomy,
        "en",
    )
    assert request.payload == {
        "type": "report",
        "category": "safety-hazard",
        "subject": "Glass on the pavement",
        "description": "Glass on the pavement\nnear the gate\n\nWhat kind of hazard is it?: spill",
        "location": "10 Downing St (51.5074, -0.1278)",
        "consent_to_publish": False,
        "language": "en",
        "contact": {
            "name": "Ann Lee",
            "email": "Ann@example.org",
            "phone": "+442079460958",
            "consent_to_contact": True,
        },
    }
    assert request.contact_extra == {
        "device_id": "dev-1",
        "account_id": "acc-9",
        "media_url": "https://img.example/1.jpg",
    }
    assert request.location == {
        "lat": 51.5074,
        "long": -0.1278,
        "address": "10 Downing St",
        "address_id": "A-1",
        "zipcode": "SW1A 2AA",
    }
    assert request.attributes == {"hazard_kind": "spill"}
    assert request.return_key is True


def test_a_minimal_form_gets_a_subject_and_description(taxonomy: Any) -> None:
    request = open311.parse_request(
        form("service_code=service-waiting&address_id=42"), taxonomy, "en"
    )
    assert request.payload["subject"] == "Waiting times"
    assert "without a description" in request.payload["description"]
    assert request.payload["location"] == "Address id 42"
    assert "contact" not in request.payload
    assert request.contact_extra == {}
    assert request.return_key is False


def test_a_long_first_line_is_shortened_at_a_word(taxonomy: Any) -> None:
    text = "word " * 40
    request = open311.parse_request(
        form(f"service_code=other&lat=1&long=2&description={text}"), taxonomy, "en"
    )
    subject = request.payload["subject"]
    assert subject.endswith("…")
    assert len(subject) <= open311.SUBJECT_LENGTH
    assert subject.startswith("word word")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lat=1&long=2", "service_code"),
        ("service_code=nope&lat=1&long=2", "service_code"),
        ("service_code=service&lat=1&long=2", "service_code"),  # a group, not a service
        ("service_code=other", "lat"),
        ("service_code=other&lat=1", "long"),
        ("service_code=other&long=1", "lat"),
        ("service_code=other&lat=91&long=0", "lat"),
        ("service_code=other&lat=0&long=-180.5", "long"),
        ("service_code=other&lat=nan&long=0", "lat"),
        ("service_code=other&lat=1e3&long=0", "lat"),
        ("service_code=other&lat=1&long=2&email=not-an-address", "email"),
        ("service_code=other&lat=1&long=2&phone=12", "phone"),
        ("service_code=other&lat=1&long=2&media_url=javascript:alert(1)", "media_url"),
        ("service_code=other&lat=1&long=2&return_key=maybe", "return_key"),
        ("service_code=other&lat=1&long=2&description=" + "x" * 4001, "description"),
        ("service_code=other&address_string=" + "x" * 151, "address_string"),
        ("service_code=other&lat=1&long=2&first_name=" + "x" * 101, "first_name"),
        ("service_code=other&lat=1&long=2&device_id=" + "x" * 101, "device_id"),
        ("service_code=other&service_code=other&lat=1&long=2", "service_code"),
        ("service_code=safety-hazard&lat=1&long=2", "attribute[hazard_kind]"),
        (
            "service_code=safety-hazard&lat=1&long=2&attribute[hazard_kind]=fire",
            "attribute[hazard_kind]",
        ),
        (
            "service_code=safety-hazard&lat=1&long=2&attribute[hazard_kind]=spill"
            "&attribute[hazard_kind]=other",
            "attribute[hazard_kind]",
        ),
        ("service_code=other&lat=1&long=2&attribute[colour]=red", "attribute[colour]"),
        ("service_code=other&lat=1&long=2&attributes=x", "attributes"),
        (
            "service_code=environment-streets&lat=1&long=2&attribute[pole_number]=" + "9" * 201,
            "attribute[pole_number]",
        ),
    ],
)
def test_bad_forms_name_the_open311_field(taxonomy: Any, query: str, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        open311.parse_request(form(query), taxonomy, "en")
    assert field in e.value.fields, e.value.fields


def test_unknown_plain_fields_are_ignored(taxonomy: Any) -> None:
    request = open311.parse_request(
        form("service_code=other&lat=1&long=2&utm_source=app"), taxonomy, "en"
    )
    assert request.payload["category"] == "other"


def test_user_text_is_cleaned(taxonomy: Any) -> None:
    request = open311.parse_request(
        form("service_code=other&lat=1&long=2&description=Hi%00%07+there&address_string=A%0Bb"),
        taxonomy,
        "en",
    )
    assert "\x00" not in request.payload["description"]
    assert "\x07" not in request.payload["description"]
    assert "\x0b" not in request.location["address"]


# --- dates and the window ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T08:15:30Z", datetime(2026, 11, 25, 8, 15, 30, tzinfo=UTC)),
        ("2026-11-25T08:15:30-05:00", datetime(2026, 11, 25, 13, 15, 30, tzinfo=UTC)),
        ("2026-11-25T08:15Z", datetime(2026, 11, 25, 8, 15, tzinfo=UTC)),
        ("2026-11-25T08:15:30.5+01:00", datetime(2026, 11, 25, 7, 15, 30, 500000, tzinfo=UTC)),
        ("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC)),
        ("2026-11-25t08:15:30z", datetime(2026, 11, 25, 8, 15, 30, tzinfo=UTC)),
    ],
)
def test_w3c_dates_parse(text: str, expected: datetime) -> None:
    assert open311.parse_datetime(text, "start_date") == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T08:15:30",
        "25/11/2026",
        "2026-13-01T00:00:00Z",
        "yesterday",
        "",
        "2026-11-25T25:00Z",
    ],
)
def test_bad_dates_are_400s(text: str) -> None:
    with pytest.raises(ValidationError) as e:
        open311.parse_datetime(text, "start_date")
    assert "start_date" in e.value.fields


def test_the_default_window_is_the_last_90_days() -> None:
    w = open311.window(None, None, NOW)
    assert (w.start, w.end) == (NOW - timedelta(days=90), NOW)


def test_one_end_gives_a_90_day_window() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert open311.window("2026-01-01T00:00:00Z", None, NOW).end == start + timedelta(days=90)
    assert open311.window(None, "2026-01-01T00:00:00Z", NOW).start == start - timedelta(days=90)


def test_the_90_day_cap() -> None:
    exactly = open311.window("2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", NOW)
    assert exactly.end - exactly.start == timedelta(days=90)
    with pytest.raises(ValidationError) as e:
        open311.window("2026-01-01T00:00:00Z", "2026-04-01T00:00:01Z", NOW)
    assert "90 days" in e.value.message
    # The same instants written with offsets: the span is what counts.
    tz = timezone(timedelta(hours=-5))
    start = datetime(2026, 1, 1, tzinfo=tz).isoformat()
    end = (datetime(2026, 1, 1, tzinfo=tz) + timedelta(days=90)).astimezone(UTC).isoformat()
    assert open311.window(start, end, NOW).end - open311.window(start, end, NOW).start == (
        timedelta(days=90)
    )


def test_end_before_start_is_a_400() -> None:
    with pytest.raises(ValidationError) as e:
        open311.window("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", NOW)
    assert "end_date" in e.value.fields


def test_lists_statuses_and_paging_parameters() -> None:
    assert open311.parse_list(" a, b,,a ", "service_code", 5) == ["a", "b"]
    with pytest.raises(ValidationError):
        open311.parse_list("a,b,c", "service_code", 2)
    assert open311.parse_statuses("open,closed") == frozenset({"open", "closed"})
    assert open311.parse_statuses(None) == frozenset()
    with pytest.raises(ValidationError):
        open311.parse_statuses("pending")
    assert open311.parse_positive(None, "page", 1, 10) == 1
    assert open311.parse_positive("7", "page", 1, 10) == 7
    for bad in ("0", "11", "-1", "1.5", "x", "٣"):
        with pytest.raises(ValidationError):
            open311.parse_positive(bad, "page", 1, 10)


# --- a ticket as a public request ----------------------------------------------------------


def _public(ticket: Any, **kwargs: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "service_name": "Hazard",
        "agency": "Safety",
        "expected": T0 + timedelta(days=10),
        "first_response": T0 + timedelta(days=1),
        "published_summary": None,
    }
    return open311.public_request(ticket, **{**defaults, **kwargs})


def test_a_ticket_as_a_public_request_has_every_standard_field_and_nothing_private() -> None:
    ticket = make_ticket(
        number(1),
        category="safety-hazard",
        status="in_progress",
        attributes={
            "open311": {
                "lat": 51.5,
                "long": -0.12,
                "address": "Main St",
                "address_id": "A1",
                "zipcode": "1000",
                "attributes": {"hazard_kind": "spill"},
                "app": "cityapp",
                "api_key_id": "abc",
            }
        },
    )
    out = _public(ticket)
    assert list(out) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert out["service_request_id"] == ticket.number
    assert out["status"] == "open"
    assert out["status_notes"] == open311.STATUS_NOTES["in_progress"]
    assert out["requested_datetime"] == "2026-11-25T19:30:41+00:00"
    assert out["expected_datetime"] == "2026-12-05T19:30:41+00:00"
    assert (out["lat"], out["long"], out["address"]) == (51.5, -0.12, "Main St")
    assert out["description"] is None
    assert out["media_url"] is None
    text = json.dumps(out, ensure_ascii=False)
    for private in (ticket.description, ticket.subject, ticket.location, "cityapp", "abc"):
        assert private not in text


def test_closed_requests_have_no_expected_time_and_web_locations_stay_private() -> None:
    ticket = make_ticket(number(2), status="resolved")
    out = _public(ticket, published_summary="Fixed the lamp.", latest_reply="Dear Ann, done.")
    assert out["status"] == "closed"
    assert out["expected_datetime"] is None
    assert out["service_notice"] is None
    assert out["description"] == "Fixed the lamp."
    assert out["status_notes"] == "Dear Ann, done."
    assert (out["lat"], out["address"]) == (None, None)


# --- wire formats --------------------------------------------------------------------------


def test_xml_and_json_carry_the_same_data_and_user_text_is_escaped() -> None:
    data = [
        {
            "service_request_id": "FB-1",
            "status_notes": '<script>alert("x")</script> & ]]> 文字 \x00\x1b\ud800\ufffe',
            "lat": 51.5,
            "media_url": None,
            "attributes": [{"code": "a", "values": [{"key": "k", "name": "Ā"}], "required": True}],
        }
    ]
    body, content_type = render("xml", "service_requests", "request", data)
    assert content_type == "text/xml; charset=utf-8"
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<service_requests><request>')
    assert "<script>" not in body
    root = parse_xml(body)
    assert root.tag == "service_requests"
    assert root[0].tag == "request"
    assert root.find("request/attributes/attribute/values/value/key").text == "k"  # type: ignore[union-attr]
    json_body, json_type = render("json", "service_requests", "request", data)
    assert json_type == "application/json; charset=utf-8"
    parsed = json.loads(json_body)
    assert parsed[0]["status_notes"] == '<script>alert("x")</script> & ]]> 文字 '
    assert from_xml(root) == stringify(parsed)


def test_error_documents() -> None:
    body, _ = errors_document("xml", [(400, "lat: bad <value>"), (400, "long: bad")])
    root = parse_xml(body)
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [
        ("400", "lat: bad <value>"),
        ("400", "long: bad"),
    ]
    assert root.tag == "errors"
    body, _ = errors_document("json", [(403, "Invalid api_key received.")])
    assert json.loads(body) == [{"code": 403, "description": "Invalid api_key received."}]
