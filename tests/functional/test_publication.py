"""POST /v1/staff/tickets/{number}/publication: preview, approve, withdraw (SQLite and DynamoDB)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib import deps
from tests.functional.conftest import Api
from tests.functional.publication_helpers import publication, resolve, transition
from tests.functional.staff_helpers import MovableClock, bearer, call, data, make_staff, submit

MONTH = "2026-11"  # staff_helpers.START is 2026-11-23


@pytest.fixture
def clock(api: Api) -> MovableClock:
    c = MovableClock()
    deps.override(clock=c)
    return c


@pytest.fixture
def people(api: Api, clock: MovableClock) -> dict[str, dict[str, str]]:
    return {
        "agent": bearer(make_staff("al", "agent", ["customer-service"])),
        "supervisor": bearer(
            make_staff("sue", "supervisor", ["customer-service"], "Sue Secret-Name")
        ),
        "other_supervisor": bearer(make_staff("ola", "supervisor", ["facilities"])),
        "admin": bearer(make_staff("root", "admin", [])),
    }


def board(api: Api) -> list[str]:
    return [t.number for t in deps.store().list_board(MONTH)]


def timeline(api: Api, number: str, who: dict[str, str]) -> list[dict[str, Any]]:
    return list(data(call(api, "GET", f"/v1/staff/tickets/{number}", **who))["timeline"])


def test_preview_shows_the_original_the_redacted_text_and_what_was_found(
    api: Api, people: dict[str, dict[str, str]]
) -> None:
    agent = people["agent"]
    created = resolve(
        api,
        agent,
        summary="Li Na (139 1234 5678) waited two hours.",
        resolution="Fixed. Questions: desk@example.org",
        contact={"name": "Li Na", "email": "li.na@example.cn"},
    )
    number = created["number"]
    before = data(call(api, "GET", f"/v1/staff/tickets/{number}", **agent))["version"]

    r = publication(api, agent, number, {"action": "preview"})

    assert r.status_code == 200, r.body
    body = data(r)
    assert body["eligible"] is True
    assert body["blockers"] == []
    assert body["summary"]["original"] == "Li Na (139 1234 5678) waited two hours."
    assert body["summary"]["redacted"] == (
        "[contact details removed] ([phone number removed]) waited two hours."
    )
    assert [f["kind"] for f in body["summary"]["findings"]] == ["contact", "phone"]
    assert body["resolution"]["redacted"] == "Fixed. Questions: [email removed]"
    assert body["publication"]["state"] == "none"
    # An audit entry, and the version is unchanged (a preview never makes an edit stale).
    assert body["version"] == before
    entries = [e for e in timeline(api, number, agent) if e["kind"] == "publication_previewed"]
    assert len(entries) == 1
    assert entries[0]["public"] is False
    assert entries[0]["data"] == {"found": ["contact", "email", "phone"]}


def test_edited_texts_are_previewed(api: Api, people: dict[str, dict[str, str]]) -> None:
    number = resolve(api, people["agent"])["number"]
    r = publication(
        api,
        people["agent"],
        number,
        {"action": "preview", "summary": "Call 010-6552 9988", "resolution": "Done."},
    )
    assert data(r)["summary"]["redacted"] == "Call [phone number removed]"
    assert data(r)["resolution"]["redacted"] == "Done."


def test_approval_stores_only_redacted_text_and_puts_the_ticket_on_the_board(
    api: Api, people: dict[str, dict[str, str]]
) -> None:
    sue = people["supervisor"]
    created = resolve(api, people["agent"], summary="Mail me at a.b@example.org")
    number = created["number"]

    r = publication(api, sue, number, {"action": "approve"})

    assert r.status_code == 200, r.body
    state = data(r)["publication"]
    assert state["state"] == "approved"
    assert state["on_board"] is True
    assert state["summary"] == "Mail me at [email removed]"
    assert re.fullmatch(r"[0-9a-z]{16}", state["board_id"])
    assert board(api) == [number]
    stored = deps.store().get_ticket(number)
    assert stored is not None
    record = stored.ticket.attributes["publication"]
    assert (record["summary"], record["month"], record["round"]) == (
        "Mail me at [email removed]",
        MONTH,
        1,
    )
    # The public timeline says it was published, by a role, never by a name.
    view = data(call(api, "GET", f"/v1/tickets/{number}", **{"X-Ticket-Key": created["key"]}))
    published = [e for e in view["timeline"] if "resolved-issue board" in e["text"]]
    assert published
    assert published[0]["actor"] == "supervisor (customer-service)"
    assert "Sue" not in str(view)


def test_only_supervisors_of_the_department_approve_and_withdraw(
    api: Api, people: dict[str, dict[str, str]]
) -> None:
    number = resolve(api, people["agent"])["number"]
    for who, status in (("agent", 403), ("other_supervisor", 403)):
        for action in ("approve", "withdraw"):
            r = publication(api, people[who], number, {"action": action})
            assert r.status_code == status, (who, action, r.body)
            assert data(r)["error"]["code"] == "forbidden"
    assert (
        publication(api, people["other_supervisor"], number, {"action": "preview"}).status_code
        == 403
    )
    assert publication(api, people["admin"], number, {"action": "approve"}).status_code == 200
    assert publication(api, people["admin"], number, {"action": "withdraw"}).status_code == 200
    assert board(api) == []


def test_without_consent_there_is_no_approval(api: Api, people: dict[str, dict[str, str]]) -> None:
    number = resolve(api, people["agent"], consent_to_publish=False)["number"]
    preview = data(publication(api, people["agent"], number, {"action": "preview"}))
    assert preview["eligible"] is False
    assert preview["blockers"] == ["The submitter did not consent to publication."]

    r = publication(api, people["supervisor"], number, {"action": "approve"})

    assert r.status_code == 409
    assert "consent" in data(r)["error"]["message"]
    assert board(api) == []


def test_only_resolved_or_closed_tickets_are_approved(
    api: Api, people: dict[str, dict[str, str]], clock: MovableClock
) -> None:
    sue = people["supervisor"]
    number = submit(api)["number"]
    transition(api, sue, number, {"status": "acknowledged"})
    r = publication(api, sue, number, {"action": "approve", "summary": "x", "resolution": "y"})
    assert r.status_code == 409
    assert "resolved or closed" in data(r)["error"]["message"]

    # Closed (by the daily job after the reopening window) is fine.
    closed = resolve(api, sue)["number"]
    clock.advance(days=15)
    deps.sweep_service().run(frozenset({"autoclose"}))
    assert data(call(api, "GET", f"/v1/staff/tickets/{closed}", **sue))["status"] == "closed"
    assert publication(api, sue, closed, {"action": "approve"}).status_code == 200
    assert board(api) == [closed]


def test_approval_needs_a_summary_and_a_resolution(
    api: Api, people: dict[str, dict[str, str]]
) -> None:
    number = resolve(api, people["agent"], summary=None)["number"]
    preview = data(publication(api, people["agent"], number, {"action": "preview"}))
    assert "Write a public summary" in " ".join(preview["blockers"])
    r = publication(api, people["supervisor"], number, {"action": "approve"})
    assert r.status_code == 400
    assert data(r)["error"]["fields"] == {"summary": "is required"}
    r = publication(api, people["supervisor"], number, {"action": "approve", "summary": "A queue."})
    assert r.status_code == 200


def test_withdrawal_takes_the_ticket_off_the_board(
    api: Api, people: dict[str, dict[str, str]]
) -> None:
    sue = people["supervisor"]
    number = resolve(api, people["agent"])["number"]
    publication(api, sue, number, {"action": "approve"})
    assert board(api) == [number]

    r = publication(api, sue, number, {"action": "withdraw"})

    assert r.status_code == 200
    state = data(r)["publication"]
    assert (state["state"], state["on_board"], state["summary"]) == ("withdrawn", False, None)
    assert board(api) == []
    kinds = [e["kind"] for e in timeline(api, number, sue)]
    assert kinds.count("publication_approved") == kinds.count("publication_withdrawn") == 1
    again = publication(api, sue, number, {"action": "withdraw"})
    assert again.status_code == 409
    # Approving again puts it back, at the same public address.
    first_id = state["board_id"]
    back = publication(api, sue, number, {"action": "approve"})
    assert back.status_code == 200
    assert data(back)["publication"]["board_id"] == first_id
    assert board(api) == [number]


def test_a_reopened_ticket_leaves_the_board(api: Api, people: dict[str, dict[str, str]]) -> None:
    created = resolve(api, people["agent"])
    number = created["number"]
    publication(api, people["supervisor"], number, {"action": "approve"})
    r = api.post(f"/v1/tickets/{number}/rating", {"score": 1}, **{"X-Ticket-Key": created["key"]})
    assert r.status_code == 201, r.body

    assert board(api) == []
    view = data(call(api, "GET", f"/v1/staff/tickets/{number}", **people["agent"]))
    assert view["status"] == "reopened"
    assert view["publication"]["state"] == "approved"
    assert view["publication"]["on_board"] is False


def test_stale_if_match_is_a_conflict(api: Api, people: dict[str, dict[str, str]]) -> None:
    sue = people["supervisor"]
    number = resolve(api, sue)["number"]
    version = data(call(api, "GET", f"/v1/staff/tickets/{number}", **sue))["version"]
    r = publication(api, sue, number, {"action": "approve"}, **{"If-Match": str(version - 1)})
    assert r.status_code == 409
    assert data(r)["error"]["code"] == "stale_version"
    r = publication(api, sue, number, {"action": "approve"}, **{"If-Match": str(version)})
    assert r.status_code == 200
    assert data(r)["version"] == version + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "publish"}, "action"),
        ({}, "action"),
        ({"action": "preview", "extra": 1}, "extra"),
        ({"action": "preview", "summary": 5}, "summary"),
        ({"action": "preview", "resolution": "x" * 5001}, "resolution"),
        ({"action": "preview", "summary": "x" * 1001}, "summary"),
    ],
)
def test_bad_bodies_are_400(
    api: Api, people: dict[str, dict[str, str]], body: dict[str, Any], field: str
) -> None:
    number = resolve(api, people["agent"])["number"]
    r = publication(api, people["supervisor"], number, body)
    assert r.status_code == 400
    assert field in data(r)["error"]["fields"]


def test_unknown_and_malformed_numbers(api: Api, people: dict[str, dict[str, str]]) -> None:
    assert publication(
        api, people["admin"], "FB-00000-00000", {"action": "preview"}
    ).status_code in (400, 404)
    assert publication(api, people["admin"], "nonsense", {"action": "preview"}).status_code == 400
