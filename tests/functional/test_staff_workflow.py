"""The whole lifecycle through the API, as the README walk-through does it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.errors import StaleVersionError
from tests.functional.conftest import Api
from tests.functional.staff_helpers import (
    MovableClock,
    bearer,
    call,
    data,
    make_staff,
    submit,
)


@pytest.fixture
def clock(api: Api) -> MovableClock:
    c = MovableClock()
    deps.override(clock=c)
    return c


def test_full_lifecycle(api: Api, clock: MovableClock) -> None:
    sue = bearer(make_staff("sue", "supervisor", ["customer-service"], "Sue Planted-Name"))
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    created = submit(api, contact={"email": "walk@example.org", "consent_to_contact": True})
    number, key = created["number"], created["key"]
    tkey = {"X-Ticket-Key": key}

    # The agent sees it in the "new" queue.
    queue = data(call(api, "GET", "/v1/staff/tickets?status=received", **al))
    assert [t["number"] for t in queue["tickets"]] == [number]

    # Triage with the version read.
    view = data(call(api, "GET", f"/v1/staff/tickets/{number}", **al))
    assert view["allowed_transitions"] == ["acknowledged", "rejected", "merged"]
    r = call(
        api,
        "PATCH",
        f"/v1/staff/tickets/{number}",
        {"priority": "P1", "assignee": "al", "public_summary": "Queue management failed."},
        **al,
        **{"If-Match": str(view["version"])},
    )
    assert r.status_code == 200, r.body
    assert r.headers["ETag"] == f'"{view["version"] + 1}"'
    triaged = data(r)
    assert (triaged["priority"], triaged["assignee"]) == ("P1", "al")
    # P1 deadlines: 1 h and 24 h on the calendar clock from submission.
    assert triaged["deadlines"]["first_response"] == "2026-11-23T10:00:00+00:00"

    # A stale If-Match is a 409 and changes nothing.
    r = call(
        api,
        "PATCH",
        f"/v1/staff/tickets/{number}",
        {"priority": "P3"},
        **al,
        **{"If-Match": str(view["version"])},
    )
    assert r.status_code == 409
    assert data(r)["error"]["code"] == "stale_version"
    assert data(call(api, "GET", f"/v1/staff/tickets/{number}", **al))["priority"] == "P1"

    # Public reply = first response; an internal note stays internal.
    clock.advance(minutes=20)
    assert (
        call(
            api,
            "POST",
            f"/v1/staff/tickets/{number}/replies",
            {"public": True, "text": "We are on it."},
            **al,
        ).status_code
        == 201
    )
    call(
        api,
        "POST",
        f"/v1/staff/tickets/{number}/replies",
        {"public": False, "text": "INTERNAL-NOTE-PLANT"},
        **al,
    )
    after = data(call(api, "GET", f"/v1/staff/tickets/{number}", **al))
    assert after["sla"]["first_response"]["state"] == "met"
    assert after["first_response_at"] == "2026-11-23T09:20:00+00:00"

    # Acknowledge, then ask for information: the clock pauses.
    call(api, "POST", f"/v1/staff/tickets/{number}/transitions", {"status": "acknowledged"}, **al)
    r = call(
        api, "POST", f"/v1/staff/tickets/{number}/transitions", {"status": "awaiting_info"}, **al
    )
    assert r.status_code == 400  # a question is required
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{number}/transitions",
        {"status": "awaiting_info", "text": "Which day was it?"},
        **al,
    )
    assert data(r)["status"] == "awaiting_info"
    before_pause = data(r)["deadlines"]["resolution"]

    clock.advance(hours=3)
    r = call(api, "POST", f"/v1/tickets/{number}/messages", {"text": "It was Monday."}, **tkey)
    assert r.status_code == 201, r.body
    resumed = data(r)
    assert resumed["status"] == "acknowledged"
    # Three paused hours on the P1 calendar clock move the resolution deadline by three hours.
    assert resumed["deadlines"]["resolution"] == "2026-11-24T12:00:00+00:00"
    assert before_pause == "2026-11-24T09:00:00+00:00"

    call(api, "POST", f"/v1/staff/tickets/{number}/transitions", {"status": "in_progress"}, **al)
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{number}/transitions",
        {"status": "resolved", "text": "Added a second ticket machine."},
        **al,
    )
    assert data(r)["status"] == "resolved"

    # A rating of 2 reopens and escalates.
    r = call(
        api, "POST", f"/v1/tickets/{number}/rating", {"score": 2, "comment": "Still slow"}, **tkey
    )
    assert r.status_code == 201, r.body
    assert data(r)["status"] == "reopened"
    again = call(api, "POST", f"/v1/tickets/{number}/rating", {"score": 1}, **tkey)
    assert again.status_code == 409
    staff_view = data(call(api, "GET", f"/v1/staff/tickets/{number}", **sue))
    assert staff_view["escalated"] is True
    assert staff_view["reopen_count"] == 1
    assert any(e["kind"] == "escalated" and not e["public"] for e in staff_view["timeline"])

    call(api, "POST", f"/v1/staff/tickets/{number}/transitions", {"status": "in_progress"}, **al)
    call(
        api,
        "POST",
        f"/v1/staff/tickets/{number}/transitions",
        {"status": "resolved", "text": "Third machine installed."},
        **al,
    )
    r = call(api, "POST", f"/v1/tickets/{number}/rating", {"score": 5}, **tkey)
    assert data(r)["status"] == "resolved"

    # Auto-close after 14 days, by the daily job.
    clock.advance(days=13)
    assert deps.sweep_service().run(frozenset({"autoclose"})).closed == 0
    clock.advance(days=1, minutes=1)
    assert deps.sweep_service().run(frozenset({"autoclose"})).closed == 1
    final = data(call(api, "GET", f"/v1/tickets/{number}", **tkey))
    assert final["status"] == "closed"

    # The public timeline: no internal note, no staff name, no contact.
    text = call(api, "GET", f"/v1/tickets/{number}", **tkey).body.decode()
    for planted in ("INTERNAL-NOTE-PLANT", "Planted-Name", "walk@example.org", "sue", '"al"'):
        assert planted not in text
    kinds = [e["kind"] for e in final["timeline"]]
    assert "note" not in kinds
    assert "escalated" not in kinds
    assert "reply" in kinds
    assert "submitter_message" in kinds
    assert "rated" in kinds


def test_merge_points_to_the_survivor_and_never_chains(api: Api, clock: MovableClock) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    a, b, c = (submit(api, subject=f"dup {i}") for i in range(3))
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{a['number']}/transitions",
        {"status": "merged", "merge_into": b["number"].lower()},
        **al,
    )
    assert r.status_code == 200, r.body
    public = data(call(api, "GET", f"/v1/tickets/{a['number']}"))
    assert public["status"] == "merged"
    assert public["merged_into"] == b["number"]
    # Into a merged ticket: refused. Merging the survivor away (a chain): refused.
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{c['number']}/transitions",
        {"status": "merged", "merge_into": a["number"]},
        **al,
    )
    assert r.status_code == 409
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{b['number']}/transitions",
        {"status": "merged", "merge_into": c["number"]},
        **al,
    )
    assert r.status_code == 409
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{c['number']}/transitions",
        {"status": "merged", "merge_into": c["number"]},
        **al,
    )
    assert r.status_code == 400
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{c['number']}/transitions",
        {"status": "merged", "merge_into": "FB-00000-00000"},
        **al,
    )
    assert r.status_code == 400
    survivor = data(call(api, "GET", f"/v1/staff/tickets/{b['number']}", **al))
    assert survivor["merged_duplicates"] == [a["number"]]


def test_rejection_needs_a_reason_and_shows_it(api: Api, clock: MovableClock) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    t = submit(api)
    path = f"/v1/staff/tickets/{t['number']}/transitions"
    assert call(api, "POST", path, {"status": "rejected"}, **al).status_code == 400
    r = call(api, "POST", path, {"status": "rejected", "text": "Out of scope."}, **al)
    assert data(r)["status"] == "rejected"
    public = data(call(api, "GET", f"/v1/tickets/{t['number']}", **{"X-Ticket-Key": t["key"]}))
    assert public["timeline"][-1]["text"] == "Out of scope."
    r = call(api, "POST", path, {"status": "acknowledged"}, **al)
    assert r.status_code == 409
    assert "final" in data(r)["error"]["message"]


def test_two_concurrent_patches_with_one_version(api: Api, clock: MovableClock) -> None:
    make_staff("al", "agent", ["customer-service"])
    staff = deps.store().get_staff("al")
    assert staff is not None
    t = submit(api)
    service = deps.ticket_work_service()
    version = service.get(staff, t["number"])["version"]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def patch(priority: str) -> None:
        barrier.wait()
        try:
            service.triage(staff, t["number"], version, {"priority": priority})
            outcomes.append(("won", priority))
        except StaleVersionError:
            outcomes.append(("stale", priority))

    threads = [threading.Thread(target=patch, args=(p,)) for p in ("P1", "P3")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(o[0] for o in outcomes) == ["stale", "won"]
    winner = next(p for result, p in outcomes if result == "won")
    final = service.get(staff, t["number"])
    assert final["priority"] == winner
    assert final["version"] == version + 1
    assert sum(1 for e in final["timeline"] if e["kind"] == "triaged") == 1


def test_canned_responses_fill_placeholders(api: Api, clock: MovableClock) -> None:
    admin = bearer(make_staff("root", "admin", []))
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    r = call(
        api,
        "POST",
        "/v1/staff/canned",
        {
            "title": "Ack",
            "text": "Ticket {number} is with {department} ({category}).",
            "category": "service",
        },
        **admin,
    )
    assert r.status_code == 201, r.body
    canned_id = data(r)["id"]
    assert (
        call(api, "POST", "/v1/staff/canned", {"title": "x", "text": "y"}, **al).status_code == 403
    )
    t = submit(api)
    listed = data(call(api, "GET", "/v1/staff/canned?category=service-waiting", **al))["canned"]
    assert [c["id"] for c in listed] == [canned_id]
    r = call(
        api,
        "POST",
        f"/v1/staff/tickets/{t['number']}/replies",
        {"public": True, "canned_id": canned_id},
        **al,
    )
    timeline = data(r)["timeline"]
    assert timeline[-1]["text"] == f"Ticket {t['number']} is with customer-service (Waiting times)."


def test_contact_read_is_audited_and_department_scoped(api: Api, clock: MovableClock) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    other = bearer(make_staff("ola", "agent", ["facilities"]))
    t = submit(api, contact={"name": "Ann", "phone": "+44 20 7946 0000"})
    assert call(api, "GET", f"/v1/staff/tickets/{t['number']}/contact", **other).status_code == 403
    r = call(api, "GET", f"/v1/staff/tickets/{t['number']}/contact", **al)
    assert data(r)["contact"] == {"name": "Ann", "email": None, "phone": "+442079460000"}
    view = data(call(api, "GET", f"/v1/staff/tickets/{t['number']}", **al))
    audit = [e for e in view["timeline"] if e["kind"] == "contact_viewed"]
    assert len(audit) == 1
    assert audit[0]["public"] is False
    assert audit[0]["actor"] == "staff:al"
    assert "Ann" not in view.__repr__()


def test_offline_intake_returns_number_and_key(api: Api, clock: MovableClock) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    body = {
        "channel": "phone",
        "type": "inquiry",
        "category": "service",
        "subject": "Hours?",
        "description": "Caller asked about opening hours.",
    }
    r = call(api, "POST", "/v1/staff/tickets", body, **al)
    assert r.status_code == 201, r.body
    created = data(r)
    assert created["key"]
    view = data(call(api, "GET", f"/v1/staff/tickets/{created['number']}", **al))
    assert view["channel"] == "phone"
    assert view["timeline"][0]["actor"] == "staff:al"
    r = call(api, "POST", "/v1/staff/tickets", {**body, "channel": "web"}, **al)
    assert r.status_code == 400


def test_queue_paging_is_ordered_and_tamper_evident(api: Api, clock: MovableClock) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    numbers = []
    for i in range(7):
        numbers.append(submit(api, subject=f"t{i}")["number"])
        clock.advance(minutes=1)
    seen: list[str] = []
    due: list[str] = []
    path = "/v1/staff/tickets?limit=3"
    while True:
        page = data(call(api, "GET", path, **al))
        seen += [t["number"] for t in page["tickets"]]
        due += [t["due_at"] for t in page["tickets"]]
        if not page["next_cursor"]:
            break
        path = f"/v1/staff/tickets?limit=3&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(numbers)
    assert due == sorted(due)
    first = data(call(api, "GET", "/v1/staff/tickets?limit=3", **al))["next_cursor"]
    forged = first[:-2] + ("AA" if not first.endswith("AA") else "BB")
    r = call(api, "GET", f"/v1/staff/tickets?limit=3&cursor={forged}", **al)
    assert r.status_code == 400
    r = call(api, "GET", f"/v1/staff/tickets?limit=3&priority=P1&cursor={first}", **al)
    assert r.status_code == 400  # a cursor only continues its own list


def test_export_is_scoped_and_formula_safe(api: Api, clock: MovableClock) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    ola = bearer(make_staff("ola", "agent", ["facilities"]))
    submit(api, subject='=HYPERLINK("http://evil")', contact={"email": "csv@example.org"})
    submit(api, category="environment-noise", subject="+1 noise", description="@loud")
    r = call(api, "GET", "/v1/staff/export.csv", **al)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    text = r.body.decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("number,submitted_at")
    assert len(lines) == 2
    assert "'=HYPERLINK" in text
    assert "csv@example.org" not in text
    theirs = call(api, "GET", "/v1/staff/export.csv", **ola).body.decode()
    assert "'+1 noise" in theirs
    assert "HYPERLINK" not in theirs
    assert call(api, "GET", "/v1/staff/export.csv?department=facilities", **al).status_code == 403
