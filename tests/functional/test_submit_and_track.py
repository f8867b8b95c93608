import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import deps
from chalicelib.domain import numbers
from tests.functional.conftest import Api

NUMBER = re.compile(r"^FB-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")
CONTACT = {
    "name": "Wang Xiaoming",
    "email": "planted.contact@example.org",
    "phone": "+86 139 1234 5678",
    "consent_to_contact": True,
}


def body(**changes: object) -> dict[str, object]:
    b: dict[str, object] = {
        "type": "complaint",
        "category": "service-waiting",
        "subject": "Two hours in the queue",
        "description": "The ticket machine was broken.\nNobody told us.",
        "location": "Main office, counter 3",
        "consent_to_publish": True,
        "language": "en",
    }
    b.update(changes)
    return b


def test_submit_then_track(api: Api) -> None:
    r = api.post("/v1/feedback", body(contact=CONTACT))
    assert r.status_code == 201, r.body
    created = json.loads(r.body)
    assert NUMBER.match(created["number"])
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{32}", created["key"])
    assert created["status"] == "received"
    submitted = datetime.fromisoformat(created["submitted_at"])
    assert submitted.utcoffset() == timedelta(0)
    first = datetime.fromisoformat(created["deadlines"]["first_response"])
    resolution = datetime.fromisoformat(created["deadlines"]["resolution"])
    assert submitted < first < resolution
    assert r.headers["Location"] == f"/v1/tickets/{created['number']}"

    status = api.get(f"/v1/tickets/{created['number']}")
    assert status.status_code == 200
    view = json.loads(status.body)
    assert view["number"] == created["number"]
    assert view["status"] == "received"
    assert view["type"] == "complaint"
    assert view["category"] == "service-waiting"
    assert view["deadlines"] == created["deadlines"]
    assert "timeline" not in view

    # Case- and dash-insensitive, with the key: the public timeline.
    loose = created["number"].lower().replace("-", "")
    full = json.loads(api.get(f"/v1/tickets/{loose}", **{"X-Ticket-Key": created["key"]}).body)
    assert [e["kind"] for e in full["timeline"]] == ["submitted"]
    assert full["timeline"][0]["actor"] == "submitter"


def test_keyword_raises_priority_to_p1_deadlines(api: Api) -> None:
    fixed = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # a Saturday, 03:00

    class FixedClock:
        def now(self) -> datetime:
            return fixed

    deps.override(clock=FixedClock())
    r = api.post("/v1/feedback", body(type="suggestion", subject="Danger: loose cable"))
    created = json.loads(r.body)
    assert created["deadlines"] == {
        "first_response": "2026-11-28T04:00:00+00:00",
        "resolution": "2026-11-29T03:00:00+00:00",
    }
    # Without a keyword a suggestion is P3, on the business clock: starts Monday 09:00.
    r = api.post("/v1/feedback", body(type="suggestion", subject="More benches"))
    assert json.loads(r.body)["deadlines"]["first_response"] == "2026-12-02T18:00:00+00:00"


def test_contact_details_never_public_and_stored_encrypted(api: Api) -> None:
    r = api.post("/v1/feedback", body(contact=CONTACT), **{"Idempotency-Key": "k-contact"})
    created = json.loads(r.body)
    responses = [
        r.body,
        api.post("/v1/feedback", body(contact=CONTACT), **{"Idempotency-Key": "k-contact"}).body,
        api.get(f"/v1/tickets/{created['number']}").body,
        api.get(f"/v1/tickets/{created['number']}", **{"X-Ticket-Key": created["key"]}).body,
    ]
    raw = api.raw_dump()
    assert created["number"] in raw  # the dump really holds the ticket
    planted = ["planted.contact", "Wang Xiaoming", "13912345678", "1391234"]
    for text in [*(b.decode() for b in responses), raw]:
        for value in planted:
            assert value not in text
    assert created["key"] not in raw  # only the key's hash is stored
    assert numbers.hash_key(created["key"]) in raw


def test_idempotent_retry_returns_the_same_ticket(api: Api) -> None:
    first = api.post("/v1/feedback", body(), **{"Idempotency-Key": "retry-1"})
    again = api.post("/v1/feedback", body(), **{"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    a, b = json.loads(first.body), json.loads(again.body)
    assert a == b
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = json.loads(api.post("/v1/feedback", body(), **{"Idempotency-Key": "retry-2"}).body)
    assert other["number"] != a["number"]
    assert other["key"] != a["key"]
    # The key survives the replay: it opens the timeline.
    r = api.get(f"/v1/tickets/{a['number']}", **{"X-Ticket-Key": b["key"]})
    assert r.status_code == 200


def test_idempotency_key_with_another_body_is_422(api: Api) -> None:
    api.post("/v1/feedback", body(), **{"Idempotency-Key": "reuse"})
    r = api.post("/v1/feedback", body(subject="Something else"), **{"Idempotency-Key": "reuse"})
    assert r.status_code == 422
    assert json.loads(r.body)["error"]["code"] == "idempotency_key_reused"


def test_twenty_concurrent_retries_make_one_ticket(api: Api) -> None:
    service = deps.submission_service()
    results: list[dict[str, object]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def submit() -> None:
        try:
            barrier.wait()
            results.append(service.submit(body(), "race-key").body)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 20
    assert len({json.dumps(r, sort_keys=True) for r in results}) == 1
    number = str(results[0]["number"])
    assert (
        api.raw_dump().count(f'"number":"{number}"')
        + api.raw_dump().count(f'"number": {{"S": "{number}"}}')
        >= 1
    )
    # Exactly one ticket in the store.
    assert (
        api.raw_dump().count('"type":"complaint"')
        + api.raw_dump().count('"type": {"S": "complaint"}')
        == 1
    )


def test_categories(api: Api) -> None:
    r = api.get("/v1/categories")
    assert r.status_code == 200
    cats = json.loads(r.body)["categories"]
    assert [c["code"] for c in cats] == [
        "product",
        "service",
        "process",
        "environment",
        "safety",
        "other",
    ]
    service = cats[1]
    assert service["department"] == "customer-service"
    assert {"code", "name", "department"} <= set(service["children"][0])
    zh = json.loads(api.get("/v1/categories", **{"Accept-Language": "zh-CN"}).body)
    assert zh["categories"][1]["name"] == "服务"


def test_health_and_security_headers(api: Api) -> None:
    r = api.get("/v1/health")
    assert r.status_code == 200
    assert json.loads(r.body) == {"status": "ok"}
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cors_allows_only_the_site_origin(api: Api) -> None:
    r = api.get("/v1/categories", Origin="http://127.0.0.1:8001")
    assert r.headers["Access-Control-Allow-Origin"] == api.settings.site_origin
    assert "evil" not in r.headers["Access-Control-Allow-Origin"]


@pytest.mark.parametrize("chars", ["\u0000", "\u0007", "\u001b[31m", "\u202e"])
def test_control_characters_are_stripped_not_fatal(api: Api, chars: str) -> None:
    r = api.post(
        "/v1/feedback",
        body(subject=f"Bad{chars}subject"),
        **{"Idempotency-Key": "c" + str(ord(chars[0]))},
    )
    assert r.status_code == 201
    created = json.loads(r.body)
    view = api.get(f"/v1/tickets/{created['number']}")
    assert view.status_code == 200
