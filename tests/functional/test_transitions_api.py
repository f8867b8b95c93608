"""Every (from, to) pair through the API on each adapter: 200 when legal, 409 otherwise."""

from __future__ import annotations

from typing import Any

from chalicelib import deps
from chalicelib.domain.tickets import STATUSES
from tests.functional.conftest import Api
from tests.functional.staff_helpers import MovableClock, bearer, call, make_staff, submit
from tests.unit.test_lifecycle import LEGAL_FOR_STAFF


def _to(api: Api, h: dict[str, str], number: str, status: str, **extra: Any) -> None:
    body = {"status": status, "text": f"to {status}", **extra}
    r = call(api, "POST", f"/v1/staff/tickets/{number}/transitions", body, **h)
    assert r.status_code == 200, r.body


def reach(api: Api, h: dict[str, str], status: str) -> str:
    """A fresh ticket in ``status``, reached the way people reach it."""
    t = submit(api)
    n = t["number"]
    steps = {
        "received": [],
        "acknowledged": ["acknowledged"],
        "awaiting_info": ["acknowledged", "awaiting_info"],
        "in_progress": ["acknowledged", "in_progress"],
        "resolved": ["acknowledged", "in_progress", "resolved"],
        "closed": ["acknowledged", "in_progress", "resolved", "closed"],
        "reopened": ["acknowledged", "in_progress", "resolved"],
        "rejected": ["rejected"],
        "merged": [],
    }[status]
    for step in steps:
        _to(api, h, n, step)
    if status == "reopened":
        r = call(api, "POST", f"/v1/tickets/{n}/rating", {"score": 1}, **{"X-Ticket-Key": t["key"]})
        assert r.json_body["status"] == "reopened"
    if status == "merged":
        _to(api, h, n, "merged", merge_into=submit(api)["number"])
    return n


def test_every_pair_through_the_api(api: Api) -> None:
    deps.override(clock=MovableClock())
    h = bearer(make_staff("al", "agent", ["customer-service"]))
    mismatches = []
    survivor = submit(api)["number"]  # merge target for refused merges (never changed)
    for source in STATUSES:
        # Refused moves leave the ticket as it was, so one ticket serves all of them;
        # every allowed move gets a fresh ticket.
        shared = reach(api, h, source)
        for target in STATUSES:
            legal = (source, target) in LEGAL_FOR_STAFF
            n = reach(api, h, source) if legal else shared
            body: dict[str, Any] = {"status": target, "text": "because"}
            if target == "merged":
                body["merge_into"] = submit(api)["number"] if legal else survivor
            r = call(api, "POST", f"/v1/staff/tickets/{n}/transitions", body, **h)
            expected = 200 if legal else 409
            if r.status_code != expected:
                mismatches.append((source, target, r.status_code))
            elif legal:
                assert r.json_body["status"] == target
            else:
                assert r.json_body["error"]["code"] == "illegal_transition"
        # The shared ticket went through every refused move unchanged.
        assert call(api, "GET", f"/v1/staff/tickets/{shared}", **h).json_body["status"] == source
    assert mismatches == []
