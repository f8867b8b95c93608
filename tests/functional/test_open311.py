"""Open311 GeoReport v2 through the API (``chalice.test.Client``), on SQLite and on DynamoDB:
every endpoint in JSON and XML, every field, each error, the window, its cap and paging."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from chalicelib import deps
from chalicelib.domain import open311 as domain
from chalicelib.domain.numbers import format_number
from chalicelib.store.port import TicketView
from tests.functional.conftest import Api
from tests.functional.publication_helpers import approve, resolve, transition
from tests.functional.staff_helpers import START, MovableClock, bearer, call, data, make_staff
from tests.support.open311 import from_xml, parse_xml, stringify
from tests.support.tickets import make_event, make_ticket

V2 = "/open311/v2"
FORM = "application/x-www-form-urlencoded"
FORMATS = ("json", "xml")
REQUEST_FIELDS = [
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
PRIVATE = (
    "ann.lee@example.org",
    "7946",
    "Ann",
    "Leeward",
    "device-77",
    "account-88",
    "img.example",
    "Glass by the gate",
)
FULL = {
    "service_code": "safety-hazard",
    "lat": "51.5074",
    "long": "-0.1278",
    "address_string": "10 Downing St",
    "address_id": "UPRN-100023336956",
    "zipcode": "SW1A 2AA",
    "email": "ann.lee@example.org",
    "phone": "+44 20 7946 0958",
    "first_name": "Ann",
    "last_name": "Leeward",
    "device_id": "device-77",
    "account_id": "account-88",
    "media_url": "https://img.example/hazard.jpg",
    "description": "Glass by the gate, near the bus stop.",
    "attribute[hazard_kind]": "spill",
    "jurisdiction_id": "clearloop",
}


@pytest.fixture
def clock(api: Api) -> MovableClock:
    c = MovableClock()
    deps.override(clock=c)
    return c


@pytest.fixture
def app_key(api: Api, clock: MovableClock) -> str:
    return deps.open311_key_service().issue("cityapp").key


def parsed(response: Any, fmt: str) -> Any:
    """The answer's data; XML is parsed (well-formed, UTF-8 declared) into the JSON shape."""
    text = response.body.decode("utf-8") if isinstance(response.body, bytes) else response.body
    if fmt == "json":
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(text)
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return from_xml(parse_xml(text))


def get(api: Api, path: str, fmt: str, **headers: str) -> tuple[int, Any]:
    r = api.get(path, **headers)
    return r.status_code, parsed(r, fmt)


def post(api: Api, fmt: str, fields: dict[str, str] | str, **headers: str) -> Any:
    body = fields if isinstance(fields, str) else urlencode(fields)
    return api.client.http.post(
        f"{V2}/requests.{fmt}", headers={"Content-Type": FORM, **headers}, body=body
    )


def submit(api: Api, key: str, fmt: str = "json", **fields: str) -> str:
    form = {"api_key": key, "service_code": "service-waiting", "lat": "1.5", "long": "2.5"}
    r = post(api, fmt, {**form, **fields})
    assert r.status_code == 201, r.body
    return str(parsed(r, fmt)[0]["service_request_id"])


def errors_of(response: Any, fmt: str, status: int) -> list[str]:
    assert response.status_code == status, response.body
    items = parsed(response, fmt)
    for item in items:
        assert set(item) == {"code", "description"}
        assert str(item["code"]) == str(status)
    return [str(item["description"]) for item in items]


def same_data(json_data: Any, xml_data: Any) -> None:
    assert xml_data == stringify(json_data)


# --- discovery and services ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(api: Api, fmt: str) -> None:
    status, doc = get(api, f"{V2}/discovery.{fmt}", fmt, Host="open311.example.org")
    assert status == 200
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "https://open311.example.org/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["application/json", "text/xml"]


def test_discovery_does_not_echo_a_strange_host(api: Api) -> None:
    _, doc = get(api, f"{V2}/discovery.json", "json", Host="evil.example/<x>")
    assert doc["endpoints"][0]["url"] == "/open311/v2"


def test_services_in_both_formats_say_the_same(api: Api) -> None:
    _, as_json = get(api, f"{V2}/services.json", "json")
    status, as_xml = get(api, f"{V2}/services.xml", "xml")
    assert status == 200
    same_data(as_json, as_xml)
    codes = [s["service_code"] for s in as_json]
    assert codes == [s.code for s in domain.services(deps.taxonomy())]
    for service in as_json:
        assert list(service) == [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ]
        assert service["type"] == "realtime"
    hazard = next(s for s in as_json if s["service_code"] == "safety-hazard")
    assert hazard["metadata"] is True
    assert hazard["group"] == "Safety"


def test_services_follow_the_language(api: Api) -> None:
    _, services = get(api, f"{V2}/services.json", "json", **{"Accept-Language": "zh-CN"})
    waiting = next(s for s in services if s["service_code"] == "service-waiting")
    assert waiting["service_name"] == "等候时间"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(api: Api, fmt: str) -> None:
    status, definition = get(api, f"{V2}/services/safety-hazard.{fmt}", fmt)
    assert status == 200
    assert definition["service_code"] == "safety-hazard"
    (attribute,) = definition["attributes"]
    assert list(attribute) == [
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    ]
    assert attribute["code"] == "hazard_kind"
    keys = [v["key"] for v in attribute["values"]]
    assert keys == ["obstruction", "spill", "electrical", "other"]
    status, plain = get(api, f"{V2}/services/service-waiting.{fmt}", fmt)
    assert status == 200
    assert plain["attributes"] == []


def test_service_definition_formats_agree(api: Api) -> None:
    _, as_json = get(api, f"{V2}/services/safety-hazard.json", "json")
    _, as_xml = get(api, f"{V2}/services/safety-hazard.xml", "xml")
    same_data(as_json, as_xml)


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_and_resource_are_404s(api: Api, fmt: str) -> None:
    assert errors_of(api.get(f"{V2}/services/nope.{fmt}"), fmt, 404)
    assert errors_of(api.get(f"{V2}/service.{fmt}"), fmt, 404)
    assert errors_of(api.get(f"{V2}/requests/FB-00000-00000.{fmt}"), fmt, 404)
    assert errors_of(api.get(f"{V2}/requests/not-a-ticket.{fmt}"), fmt, 404)


@pytest.mark.parametrize("path", ["services.csv", "services", "requests.html", "services/x.yaml"])
def test_an_unknown_format_is_a_400_in_xml(api: Api, path: str) -> None:
    (text,) = errors_of(api.get(f"{V2}/{path}"), "xml", 400)
    assert ".json or .xml" in text


# --- submitting ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_submit_every_field(api: Api, app_key: str, fmt: str) -> None:
    r = post(api, fmt, {"api_key": app_key, **FULL})
    assert r.status_code == 201, r.body
    (created,) = parsed(r, fmt)
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    number = created["service_request_id"]
    assert r.headers["Location"] == f"{V2}/requests/{number}.{fmt}"
    assert created["account_id"] is None
    assert "We aim to respond by" in created["service_notice"]

    # The ticket: the existing submission use case on the open311 channel.
    view = deps.store().get_ticket(number)
    assert view is not None
    t = view.ticket
    assert (t.channel, t.type, t.category, t.status) == (
        "open311",
        "report",
        "safety-hazard",
        "received",
    )
    assert t.subject == "Glass by the gate, near the bus stop."
    assert t.description.endswith("What kind of hazard is it?: spill")
    assert t.location == "10 Downing St (51.5074, -0.1278)"
    assert t.consent_to_contact is True
    assert t.consent_to_publish is False
    assert t.attributes["open311"]["attributes"] == {"hazard_kind": "spill"}
    assert t.attributes["open311"]["app"] == "cityapp"
    assert t.deadlines.resolution > t.submitted_at  # the SLA applies
    # Contact details only inside the encrypted envelope.
    raw = api.raw_dump()
    for private in ("ann.lee@example.org", "Leeward", "device-77", "account-88", "img.example"):
        assert private not in raw
    supervisor = bearer(make_staff("sam", "supervisor", [t.department]))
    contact = data(call(api, "GET", f"/v1/staff/tickets/{number}/contact", **supervisor))
    assert contact["contact"] == {
        "name": "Ann Leeward",
        "email": "ann.lee@example.org",
        "phone": "+442079460958",
        "device_id": "device-77",
        "account_id": "account-88",
        "media_url": "https://img.example/hazard.jpg",
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_submitters_key_only_when_the_app_asks(api: Api, app_key: str, fmt: str) -> None:
    r = post(api, fmt, {"api_key": app_key, **FULL, "return_key": "true"})
    (created,) = parsed(r, fmt)
    key = created["key"]
    number = created["service_request_id"]
    status = api.get(f"/v1/tickets/{number}", **{"X-Ticket-Key": key})
    assert status.status_code == 200
    assert "timeline" in data(status)
    r = post(api, fmt, {"api_key": app_key, **FULL})
    assert "key" not in parsed(r, fmt)[0]


def test_the_api_key_may_come_in_the_query_string(api: Api, app_key: str) -> None:
    r = api.client.http.post(
        f"{V2}/requests.json?api_key={quote(app_key)}",
        headers={"Content-Type": FORM},
        body=urlencode({"service_code": "other", "address_string": "Town hall"}),
    )
    assert r.status_code == 201, r.body


def test_a_retry_with_the_same_idempotency_key_is_one_ticket(api: Api, app_key: str) -> None:
    form = {"api_key": app_key, "service_code": "other", "lat": "1", "long": "2"}
    first = post(api, "json", form, **{"Idempotency-Key": "app-123"})
    again = post(api, "json", form, **{"Idempotency-Key": "app-123"})
    assert parsed(first, "json") == parsed(again, "json")
    other = post(api, "json", {**form, "lat": "3"}, **{"Idempotency-Key": "app-123"})
    assert other.status_code == 422
    # Another app's key of the same name is another request.
    second_app = deps.open311_key_service().issue("otherapp").key
    theirs = post(api, "json", {**form, "api_key": second_app}, **{"Idempotency-Key": "app-123"})
    assert theirs.status_code == 201
    assert (
        parsed(theirs, "json")[0]["service_request_id"]
        != parsed(first, "json")[0]["service_request_id"]
    )
    bad = post(api, "json", form, **{"Idempotency-Key": "with space"})
    assert errors_of(bad, "json", 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_api_key_errors_are_403s(api: Api, app_key: str, clock: MovableClock, fmt: str) -> None:
    form = {"service_code": "other", "lat": "1", "long": "2"}
    assert "api_key" in errors_of(post(api, fmt, form), fmt, 403)[0]
    assert errors_of(post(api, fmt, {**form, "api_key": "o311_WRONG"}), fmt, 403)
    assert errors_of(post(api, fmt, {**form, "api_key": "clt_staff"}), fmt, 403)
    keys = deps.open311_key_service()
    revoked = keys.issue("oldapp")
    keys.revoke(revoked.key_id)
    assert "revoked" in errors_of(post(api, fmt, {**form, "api_key": revoked.key}), fmt, 403)[0]
    short = keys.issue("shortapp", days=1)
    clock.advance(days=2)
    assert "expired" in errors_of(post(api, fmt, {**form, "api_key": short.key}), fmt, 403)[0]
    assert post(api, fmt, {**form, "api_key": app_key}).status_code == 201
    # A staff token's record is never an API key, nor the other way round.
    token = make_staff("al", "agent", ["customer-service"])
    assert errors_of(post(api, fmt, {**form, "api_key": token}), fmt, 403)
    assert call(api, "GET", "/v1/staff/me", **bearer(app_key)).status_code == 401


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"service_code": "nope", "lat": "1", "long": "2"}, "service_code"),
        ({"lat": "1", "long": "2"}, "service_code"),
        ({"service_code": "other"}, "lat"),
        ({"service_code": "other", "lat": "95", "long": "2"}, "lat"),
        ({"service_code": "other", "lat": "1", "long": "east"}, "long"),
        ({"service_code": "other", "lat": "1", "long": "2", "email": "nope"}, "email"),
        ({"service_code": "other", "lat": "1", "long": "2", "phone": "call me"}, "phone"),
        (
            {"service_code": "other", "lat": "1", "long": "2", "description": "x" * 4001},
            "description",
        ),
        ({"service_code": "other", "lat": "1", "long": "2", "media_url": "ftp://x"}, "media_url"),
        ({"service_code": "safety-hazard", "lat": "1", "long": "2"}, "attribute[hazard_kind]"),
        (
            {
                "service_code": "safety-hazard",
                "lat": "1",
                "long": "2",
                "attribute[hazard_kind]": "x",
            },
            "attribute[hazard_kind]",
        ),
        ({"service_code": "other", "lat": "1", "long": "2", "attribute[x]": "y"}, "attribute[x]"),
        ({"service_code": "other", "lat": "1", "long": "2", "return_key": "please"}, "return_key"),
    ],
)
def test_bad_fields_are_400s_naming_the_field(
    api: Api, app_key: str, fmt: str, fields: dict[str, str], named: str
) -> None:
    before = api.raw_dump()
    descriptions = errors_of(post(api, fmt, {"api_key": app_key, **fields}), fmt, 400)
    assert any(d.startswith(f"{named}: ") for d in descriptions), descriptions
    assert api.raw_dump() == before  # nothing stored


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "body",
    [
        "service_code=other&&lat=1",
        "api_key&service_code=other",
        "service_code=%ff%fe&lat=1&long=2",
        "&".join(f"f{i}=1" for i in range(300)),
        b"service_code=\xff\xfe",
    ],
    ids=["empty-pair", "no-equals", "bad-utf8-escape", "too-many-fields", "bad-utf8"],
)
def test_malformed_forms_are_400s(api: Api, app_key: str, fmt: str, body: str | bytes) -> None:
    r = api.client.http.post(f"{V2}/requests.{fmt}", headers={"Content-Type": FORM}, body=body)
    assert errors_of(r, fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_body_limits_and_media_types(api: Api, app_key: str, fmt: str) -> None:
    huge = urlencode({"api_key": app_key, "description": "x" * 70_000})
    assert errors_of(post(api, fmt, huge), fmt, 413)
    r = api.client.http.post(
        f"{V2}/requests.{fmt}", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert errors_of(r, fmt, 415)
    r = api.client.http.put(f"{V2}/requests.{fmt}", headers={"Content-Type": FORM}, body="")
    assert errors_of(r, fmt, 405)
    # POST to a resource that takes no POST.
    r = api.client.http.post(f"{V2}/services.{fmt}", headers={"Content-Type": FORM}, body="a=1")
    assert errors_of(r, fmt, 404)


# --- reading one request -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request_every_field(api: Api, app_key: str, clock: MovableClock, fmt: str) -> None:
    r = post(api, "json", {"api_key": app_key, **FULL})
    number = parsed(r, "json")[0]["service_request_id"]
    status, (request,) = get(api, f"{V2}/requests/{number}.{fmt}", fmt)
    assert status == 200
    assert list(request) == REQUEST_FIELDS
    ticket = deps.store().get_ticket(number)
    assert ticket is not None
    expected = {
        "service_request_id": number,
        "status": "open",
        "status_notes": domain.STATUS_NOTES["received"],
        "service_name": "Hazard",
        "service_code": "safety-hazard",
        "description": None,
        "agency_responsible": "Safety",
        "service_notice": domain.service_notice(
            ticket.ticket.deadlines.first_response, ticket.ticket.deadlines.resolution
        ),
        "requested_datetime": "2026-11-23T09:00:00+00:00",
        "updated_datetime": "2026-11-23T09:00:00+00:00",
        "expected_datetime": domain.w3c(ticket.ticket.deadlines.resolution),
        "address": "10 Downing St",
        "address_id": "UPRN-100023336956",
        "zipcode": "SW1A 2AA",
        "lat": 51.5074,
        "long": -0.1278,
        "media_url": None,
    }
    assert request == (expected if fmt == "json" else stringify(expected))
    text = json.dumps(request, ensure_ascii=False)
    for private in PRIVATE:
        assert private not in text
    # Case- and dash-insensitive, like every ticket number.
    status, _ = get(api, f"{V2}/requests/{number.lower().replace('-', '')}.{fmt}", fmt)
    assert status == 200


def test_one_request_formats_agree(api: Api, app_key: str) -> None:
    number = submit(api, app_key, description="Queue <b>again</b> & again")
    _, as_json = get(api, f"{V2}/requests/{number}.json", "json")
    _, as_xml = get(api, f"{V2}/requests/{number}.xml", "xml")
    same_data(as_json, as_xml)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_key_holder_sees_the_latest_public_reply(
    api: Api, app_key: str, clock: MovableClock, fmt: str
) -> None:
    created = parsed(post(api, "json", {"api_key": app_key, **FULL, "return_key": "true"}), "json")
    number, key = created[0]["service_request_id"], created[0]["key"]
    dept = deps.store().get_ticket(number)
    assert dept is not None
    agent = bearer(make_staff("al", "agent", [dept.ticket.department]))
    call(
        api,
        "POST",
        f"/v1/staff/tickets/{number}/replies",
        {"public": False, "text": "Internal."},
        **agent,
    )
    call(
        api,
        "POST",
        f"/v1/staff/tickets/{number}/replies",
        {"public": True, "text": "Dear Ann, on it."},
        **agent,
    )
    _, (anyone,) = get(api, f"{V2}/requests/{number}.{fmt}", fmt)
    assert anyone["status_notes"] == domain.STATUS_NOTES["received"]
    _, (holder,) = get(api, f"{V2}/requests/{number}.{fmt}", fmt, **{"X-Ticket-Key": key})
    assert holder["status_notes"] == "Dear Ann, on it."
    wrong = api.get(f"{V2}/requests/{number}.{fmt}", **{"X-Ticket-Key": "A" * 32})
    assert errors_of(wrong, fmt, 403)
    long = api.get(f"{V2}/requests/{number}.{fmt}", **{"X-Ticket-Key": "A" * 65})
    assert errors_of(long, fmt, 400)


# --- the acceptance path -------------------------------------------------------------------


def test_an_open311_request_reaches_staff_and_their_changes_show(
    api: Api, app_key: str, clock: MovableClock
) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    number = submit(api, app_key, "xml", description="Two hours at counter 3")

    queue = data(call(api, "GET", "/v1/staff/tickets?status=received", **al))
    assert [t["number"] for t in queue["tickets"]] == [number]
    assert queue["tickets"][0]["channel"] == "open311"
    public = data(api.get(f"/v1/tickets/{number}"))
    assert public["status"] == "received"

    clock.advance(hours=1)
    transition(api, al, number, {"status": "acknowledged"})
    clock.advance(hours=1)
    transition(api, al, number, {"status": "in_progress"})
    _, (request,) = get(api, f"{V2}/requests/{number}.json", "json")
    assert request["status"] == "open"
    assert request["status_notes"] == domain.STATUS_NOTES["in_progress"]
    assert request["updated_datetime"] == "2026-11-23T11:00:00+00:00"
    assert data(api.get(f"/v1/tickets/{number}"))["status"] == "in_progress"

    clock.advance(hours=1)
    transition(api, al, number, {"status": "resolved", "text": "A second counter opened."})
    _, (request,) = get(api, f"{V2}/requests/{number}.xml", "xml")
    assert request["status"] == "closed"
    assert request["status_notes"] == domain.STATUS_NOTES["resolved"]
    assert request["expected_datetime"] is None
    assert "A second counter" not in json.dumps(request)


def test_an_approved_board_summary_is_the_description(api: Api, clock: MovableClock) -> None:
    sue = bearer(make_staff("sue", "supervisor", ["customer-service"]))
    created = resolve(api, sue, summary="Queue at counter 3 was too long.")
    number = created["number"]
    _, (before,) = get(api, f"{V2}/requests/{number}.json", "json")
    assert before["description"] is None
    approve(api, sue, number)
    _, (after,) = get(api, f"{V2}/requests/{number}.json", "json")
    assert after["description"] == "Queue at counter 3 was too long."
    assert (after["lat"], after["address"]) == (None, None)  # a web ticket's location is private


# --- listing -------------------------------------------------------------------------------


def _at(api: Api, clock: MovableClock, key: str, when: timedelta, **fields: str) -> str:
    clock.current = START + when
    return submit(api, key, **fields)


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_filters_by_code_status_and_ids(
    api: Api, app_key: str, clock: MovableClock, fmt: str
) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    waiting = _at(api, clock, app_key, timedelta(hours=1))
    other = _at(api, clock, app_key, timedelta(hours=2), service_code="other")
    closed = _at(api, clock, app_key, timedelta(hours=3))
    transition(api, al, closed, {"status": "rejected", "text": "Spam.", "reject_kind": "spam"})

    def listed(query: str) -> list[str]:
        status, requests = get(api, f"{V2}/requests.{fmt}{query}", fmt)
        assert status == 200, requests
        for request in requests:
            assert list(request) == REQUEST_FIELDS
        return [r["service_request_id"] for r in requests]

    assert listed("") == [closed, other, waiting]  # newest first
    assert listed("?service_code=service-waiting") == [closed, waiting]
    assert listed("?service_code=other,service-waiting&status=open") == [other, waiting]
    assert listed("?status=closed") == [closed]
    assert listed("?status=open,closed") == [closed, other, waiting]
    assert listed(f"?service_request_id={waiting},{other.lower()},FB-00000-00000") == [
        waiting,
        other,
    ]
    # With ids, the other parameters are ignored (the standard says so).
    assert listed(f"?service_request_id={waiting}&status=closed&start_date=bad") == [waiting]


def test_list_formats_agree(api: Api, app_key: str, clock: MovableClock) -> None:
    for hours in range(3):
        _at(api, clock, app_key, timedelta(hours=hours), description=f"Queue {hours} & <more>")
    _, as_json = get(api, f"{V2}/requests.json", "json")
    _, as_xml = get(api, f"{V2}/requests.xml", "xml")
    assert len(as_json) == 3
    same_data(as_json, as_xml)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_window_default_bounds_and_cap(
    api: Api, app_key: str, clock: MovableClock, fmt: str
) -> None:
    old = _at(api, clock, app_key, timedelta(days=0))
    mid = _at(api, clock, app_key, timedelta(days=50))
    new = _at(api, clock, app_key, timedelta(days=100))
    clock.current = START + timedelta(days=100, hours=1)

    def listed(query: str) -> list[str]:
        status, requests = get(api, f"{V2}/requests.{fmt}{query}", fmt)
        assert status == 200, requests
        return [r["service_request_id"] for r in requests]

    # No dates: the last 90 days.
    assert listed("") == [new, mid]
    start = quote((START - timedelta(hours=1)).isoformat())
    end = quote((START + timedelta(days=60)).isoformat())
    assert listed(f"?start_date={start}&end_date={end}") == [mid, old]
    assert listed(f"?start_date={start}") == [mid, old]  # start + 90 days
    assert listed("?end_date=2026-11-23T09:00:00Z") == [old]  # both ends included
    assert listed("?start_date=2026-11-23T09:00:00.000001Z&end_date=2027-02-01T00:00:00Z") == [mid]
    too_long = "?start_date=2026-01-01T00:00:00Z&end_date=2026-04-01T00:00:01Z"
    (text,) = errors_of(api.get(f"{V2}/requests.{fmt}{too_long}"), fmt, 400)
    assert "90 days" in text
    backwards = "?start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"
    assert errors_of(api.get(f"{V2}/requests.{fmt}{backwards}"), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "end_date=2026-11-23T09:00:00",
        "status=pending",
        "page=0",
        "page=x",
        "page_size=1001",
        "page_size=0",
        "service_request_id=not-a-number",
        "service_code=" + ",".join(f"c{i}" for i in range(101)),
    ],
)
def test_bad_list_parameters_are_400s(api: Api, fmt: str, query: str) -> None:
    assert errors_of(api.get(f"{V2}/requests.{fmt}?{query}"), fmt, 400)


def test_paging(api: Api, app_key: str, clock: MovableClock) -> None:
    made = [_at(api, clock, app_key, timedelta(minutes=i)) for i in range(7)]
    newest_first = list(reversed(made))

    def page(n: int, size: int) -> list[str]:
        _, requests = get(api, f"{V2}/requests.json?page={n}&page_size={size}", "json")
        return [r["service_request_id"] for r in requests]

    assert page(1, 3) == newest_first[:3]
    assert page(2, 3) == newest_first[3:6]
    assert page(3, 3) == newest_first[6:]
    assert page(4, 3) == []
    assert page(1, 1000) == newest_first


# The cap and the paging are the use case's; how each adapter pages is the contract suite's
# (tests/contract/test_store_open311_contract.py). 1,001 tickets take minutes on moto.
@pytest.mark.parametrize("api", ["sqlite"], indirect=True)
def test_at_most_1000_requests_per_answer(api: Api, clock: MovableClock) -> None:
    base = START - timedelta(days=1)
    views = []
    for i in range(1001):
        n = format_number((0x5000 + i << 3).to_bytes(6, "big"), "FB")
        at = base + timedelta(seconds=60 * i)
        ticket = make_ticket(
            n, submitted_at=at, updated_at=at, category="other", department="general"
        )
        views.append(TicketView(ticket, [make_event(n, 1, at)]))
    deps.store().import_tickets(views, {})
    _, first = get(api, f"{V2}/requests.json", "json")
    assert len(first) == domain.MAX_RESULTS == 1000
    assert first[0]["service_request_id"] == views[-1].ticket.number
    _, second = get(api, f"{V2}/requests.json?page=2", "json")
    assert [r["service_request_id"] for r in second] == [views[0].ticket.number]
    _, small = get(api, f"{V2}/requests.xml?page=101&page_size=10", "xml")
    assert [r["service_request_id"] for r in small] == [views[0].ticket.number]
