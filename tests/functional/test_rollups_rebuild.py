"""The rollups kept incrementally (in each change's transaction) equal a rebuild from the tickets.

A month of varied work goes through the API and the sweep on SQLite and on DynamoDB (moto):
replies, a pause for information, late answers the sweep marks as breaches, a department and
category change, spam and out-of-scope rejections, a merge, a dissatisfied rating that reopens,
auto-close, a priority change, publication. Then ``rollups.rebuild`` over every ticket must give
exactly the cells the store holds.
"""

from __future__ import annotations

from datetime import date

from chalicelib import deps
from chalicelib.domain import rollups
from chalicelib.domain.rollups import TOTAL_DAY
from tests.functional.conftest import Api
from tests.functional.publication_helpers import publication, transition
from tests.functional.staff_helpers import MovableClock, bearer, call, data, make_staff, submit


def stored_cells() -> dict:
    store = deps.store()
    rows = store.read_rollups(date(2026, 11, 1), date(2027, 1, 31)) + store.read_rollup_totals()
    return rollups.merge_rows(rows)


def test_incremental_rollups_equal_a_rebuild(api: Api) -> None:
    clock = MovableClock()
    deps.override(clock=clock)
    sue = bearer(make_staff("sue", "supervisor", ["customer-service"]))
    root = bearer(make_staff("root", "admin", []))
    sweep = deps.sweep_service()

    def sweep_at(**delta: float) -> None:
        clock.advance(**delta)
        sweep.run()

    numbers: list[str] = []

    def new(**changes: object) -> dict:
        created = submit(api, **changes)
        numbers.append(created["number"])
        return created

    happy = new(contact={"name": "Li Na", "email": "li@example.org"})
    late = new()
    spam = new(subject="Cheap watches", description="Buy now")
    outside = new(subject="About the national tax office")
    duplicate = new()
    r = call(
        api,
        "POST",
        "/v1/staff/tickets",
        {
            "channel": "phone",
            "type": "report",
            "category": "safety-hazard",
            "subject": "Loose railing",
            "description": "Stairs, east exit.",
        },
        **sue,
    )
    assert r.status_code == 201, r.body
    forgotten = data(r)["number"]
    numbers.append(forgotten)
    urgent = new(type="suggestion")

    clock.advance(minutes=30)
    h = happy["number"]
    transition(api, sue, h, {"status": "acknowledged"})
    transition(api, sue, h, {"status": "in_progress"})
    transition(api, sue, h, {"status": "awaiting_info", "text": "Which counter?"})
    transition(
        api,
        sue,
        spam["number"],
        {"status": "rejected", "text": "Advertising.", "reject_kind": "spam"},
    )
    view = data(call(api, "GET", f"/v1/staff/tickets/{urgent['number']}", **sue))
    call(
        api,
        "PATCH",
        f"/v1/staff/tickets/{urgent['number']}",
        {"priority": "P1"},
        **sue,
        **{"If-Match": str(view["version"])},
    )

    sweep_at(hours=3)  # past the 2-business-hour first-response deadlines: breaches recorded
    r = api.post(
        f"/v1/tickets/{h}/messages", {"text": "Counter 3."}, **{"X-Ticket-Key": happy["key"]}
    )
    assert r.status_code == 201, r.body
    transition(
        api, sue, outside["number"], {"status": "rejected", "text": "Not ours."}
    )  # late, out of scope

    clock.advance(hours=1)
    lt = late["number"]
    transition(api, sue, lt, {"status": "acknowledged"})  # late first response
    view = data(call(api, "GET", f"/v1/staff/tickets/{lt}", **root))
    r = call(
        api,
        "PATCH",
        f"/v1/staff/tickets/{lt}",
        {"department": "facilities", "category": "environment-streets"},
        **root,
        **{"If-Match": str(view["version"])},
    )
    assert r.status_code == 200, r.body
    transition(api, root, duplicate["number"], {"status": "merged", "merge_into": lt})
    transition(api, root, lt, {"status": "in_progress"})
    transition(api, sue, urgent["number"], {"status": "acknowledged"})

    sweep_at(days=1)
    transition(api, sue, h, {"status": "resolved", "text": "A second counter opens at busy times."})
    r = api.post(
        f"/v1/tickets/{h}/rating",
        {"score": 2, "comment": "Still slow"},
        **{"X-Ticket-Key": happy["key"]},
    )
    assert r.status_code == 201, r.body  # reopened
    sweep_at(hours=5)
    transition(api, sue, h, {"status": "in_progress"})
    sweep_at(days=3)  # the reopened round and the department move's resolution deadline pass
    transition(api, sue, h, {"status": "resolved", "text": "Two more staff at the counters."})
    api.post(f"/v1/tickets/{h}/rating", {"score": 5}, **{"X-Ticket-Key": happy["key"]})
    transition(api, root, lt, {"status": "resolved", "text": "Lamp repaired."})
    view = data(call(api, "GET", f"/v1/staff/tickets/{h}", **sue))
    call(
        api,
        "PATCH",
        f"/v1/staff/tickets/{h}",
        {"public_summary": "Long queues."},
        **sue,
        **{"If-Match": str(view["version"])},
    )
    assert publication(api, sue, h, {"action": "approve"}).status_code == 200

    sweep_at(days=15)  # auto-close; the forgotten phone report is far past both deadlines

    tickets = []
    for n in numbers:
        found = deps.store().get_ticket(n)
        assert found is not None
        tickets.append(found.ticket)
    zone = deps.policy().calendar.timezone
    rebuilt = rollups.rebuild(tickets, zone)

    assert stored_cells() == rollups.tally(rebuilt)
    # Samples and all: the rebuilt cells hold each ticket's durations under its identity.
    assert any(c.samples for c in rebuilt.values())
    # And the data set exercised what it claims to.
    total = rebuilt[rollups.RollupKey(TOTAL_DAY, "all", "all")].counts
    assert total["open"] == 2  # the forgotten report, the P1 suggestion
    assert total["resolution_overdue"] >= 1
    assert total["response_overdue"] >= 1
    everything = [c for k, c in rebuilt.items() if k.dimension == "all" and k.day != TOTAL_DAY]
    sums: dict[str, int] = {}
    for cell in everything:
        for name, n in cell.counts.items():
            sums[name] = sums.get(name, 0) + n
    assert sums["received"] == 7
    assert (sums["merged"], sums["rejected_spam"], sums["rejected_other"]) == (1, 1, 1)
    assert sums["resolved"] == 3
    assert sums["reopened"] == 1
    assert sums["ratings"] == 2
    assert sums["response_overdue_start"] >= 2  # the late answer and the late rejection
    departments = {k.value for k in rebuilt if k.dimension == "department"}
    assert "facilities" in departments
