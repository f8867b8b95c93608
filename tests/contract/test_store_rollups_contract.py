"""Contract of the transparency operations on every adapter: rollup increments written with the
ticket (all or nothing), rollups read by day range and totals, the board index, bulk import."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import rollups
from chalicelib.domain.rollups import TOTAL_DAY, CellDelta, RollupKey, Tally
from chalicelib.errors import StaleVersionError
from chalicelib.store.port import TicketChange, TicketStore, TicketView
from tests.support.tickets import make_event, make_ticket, number

DAY = RollupKey("2026-03-01", "all", "all")
T = datetime(2026, 3, 1, 9, tzinfo=UTC)


def read(store: TicketStore, first: str = "2026-01-01", last: str = "2026-12-31") -> dict:
    return rollups.merge_rows(
        store.read_rollups(date.fromisoformat(first), date.fromisoformat(last))
    )


def totals(store: TicketStore) -> dict:
    return rollups.merge_rows(store.read_rollup_totals())


def sample(n: str, seconds: int = 60, tag: str = "response") -> dict[str, int]:
    """One duration sample, ``{identity: seconds}``."""
    return {rollups.sample_identity(n, tag): seconds}


def test_create_writes_the_rollups_with_the_ticket(store: TicketStore) -> None:
    n = number(1)
    change = {
        DAY: CellDelta({"received": 1, "open_delta": 1}, {"response_seconds": sample(n)}),
        RollupKey("2026-03-01", "department", "parks"): CellDelta({"received": 1}),
        RollupKey(TOTAL_DAY, "all", "all"): CellDelta({"open": 1}),
    }
    store.create_ticket(make_ticket(n), [make_event(n, 1, T)], None, rollups=change)

    assert read(store) == {
        DAY: Tally({"received": 1, "open_delta": 1}, {"response_seconds": [60]}),
        RollupKey("2026-03-01", "department", "parks"): Tally({"received": 1}, {}),
    }
    assert totals(store) == {RollupKey(TOTAL_DAY, "all", "all"): Tally({"open": 1}, {})}


def test_increments_add_up_and_samples_come_and_go(store: TicketStore) -> None:
    a, b = number(2), number(3)
    ta, tb = make_ticket(a), make_ticket(b)
    store.create_ticket(
        ta,
        [],
        None,
        rollups={DAY: CellDelta({"received": 1}, {"response_seconds": sample(a)})},
    )
    store.create_ticket(
        tb,
        [],
        None,
        rollups={DAY: CellDelta({"received": 1}, {"response_seconds": sample(b, 90)})},
    )
    moved = RollupKey("2026-03-01", "department", "water")
    store.save_tickets(
        [
            TicketChange(
                ta.replace(version=2),
                1,
                [],
                {
                    DAY: CellDelta(
                        {"received": -1, "open_delta": -1},
                        removed={"response_seconds": sample(a)},
                    ),
                    moved: CellDelta({"received": 1}, {"response_seconds": sample(a)}),
                },
            )
        ]
    )

    assert read(store) == {
        DAY: Tally({"received": 1, "open_delta": -1}, {"response_seconds": [90]}),
        moved: Tally({"received": 1}, {"response_seconds": [60]}),
    }


def test_one_save_of_two_tickets_combines_their_increments(store: TicketStore) -> None:
    """A merge saves two tickets at once; their increments to one cell both count."""
    a, b = number(4), number(5)
    store.create_ticket(make_ticket(a), [], None)
    store.create_ticket(make_ticket(b), [], None)
    store.save_tickets(
        [
            TicketChange(
                make_ticket(a, version=2, status="merged"),
                1,
                [],
                {DAY: CellDelta({"merged": 1, "open_delta": -1})},
            ),
            TicketChange(
                make_ticket(b, version=2),
                1,
                [],
                {
                    DAY: CellDelta(
                        {"open_delta": -1},
                        {"resolution_seconds": sample(b, 7, "round1")},
                    )
                },
            ),
        ]
    )

    assert read(store) == {DAY: Tally({"merged": 1, "open_delta": -2}, {"resolution_seconds": [7]})}


def test_a_stale_save_writes_no_rollups(store: TicketStore) -> None:
    n = number(6)
    store.create_ticket(make_ticket(n), [], None, rollups={DAY: CellDelta({"received": 1})})

    with pytest.raises(StaleVersionError):
        store.save_tickets(
            [TicketChange(make_ticket(n, version=3), 2, [], {DAY: CellDelta({"resolved": 1})})]
        )

    assert read(store) == {DAY: Tally({"received": 1}, {})}


def test_days_are_read_by_inclusive_range_without_totals(store: TicketStore) -> None:
    n = number(7)
    days = ["2026-02-28", "2026-03-01", "2026-03-02", "2026-03-04"]
    change = {
        RollupKey(d, "all", "all"): CellDelta({"received": i + 1}) for i, d in enumerate(days)
    }
    change[RollupKey(TOTAL_DAY, "all", "all")] = CellDelta({"open": 4})
    store.create_ticket(make_ticket(n), [], None, rollups=change)

    got = read(store, "2026-03-01", "2026-03-03")

    assert got == {
        RollupKey("2026-03-01", "all", "all"): Tally({"received": 2}, {}),
        RollupKey("2026-03-02", "all", "all"): Tally({"received": 3}, {}),
    }
    assert read(store, "2026-03-05", "2026-03-31") == {}


def test_counters_may_go_to_zero_and_below(store: TicketStore) -> None:
    n = number(8)
    t = make_ticket(n)
    store.create_ticket(t, [], None, rollups={DAY: CellDelta({"open_delta": 1})})
    store.save_tickets(
        [
            TicketChange(
                t.replace(version=2), 1, [], {DAY: CellDelta({"open_delta": -1, "reopened": -1})}
            )
        ]
    )

    assert read(store) == {DAY: Tally({"reopened": -1}, {})}


def _approved(n: str, month: str, resolved_at: datetime, **changes: object) -> object:
    ticket = make_ticket(
        n,
        status="resolved",
        consent_to_publish=True,
        resolved_at=resolved_at,
        resolution_round=1,
        attributes={
            "publication": {
                "state": "approved",
                "summary": "Broken lamp",
                "resolution": "Repaired",
                "round": 1,
                "month": month,
                "board_id": "0123456789abcdef",
            }
        },
    )
    return ticket.replace(**changes)


def test_the_board_index_follows_the_ticket(store: TicketStore) -> None:
    first, second, other_month, never = number(10), number(11), number(12), number(13)
    t1 = _approved(first, "2026-03", datetime(2026, 3, 3, tzinfo=UTC))
    t2 = _approved(second, "2026-03", datetime(2026, 3, 9, tzinfo=UTC))
    t3 = _approved(other_month, "2026-02", datetime(2026, 2, 27, tzinfo=UTC))
    t4 = make_ticket(never, status="resolved", resolved_at=datetime(2026, 3, 5, tzinfo=UTC))
    for t in (t1, t2, t3, t4):
        store.create_ticket(t, [], None)

    assert [t.number for t in store.list_board("2026-03")] == [second, first]  # newest first
    assert [t.number for t in store.list_board("2026-02")] == [other_month]
    assert store.list_board("2026-01") == []
    assert store.list_board("2026-03")[0] == t2

    withdrawn = t2.replace(
        version=2,
        attributes={"publication": {**t2.attributes["publication"], "state": "withdrawn"}},
    )
    reopened = t1.replace(version=2, status="reopened")
    store.save_tickets([TicketChange(withdrawn, 1, []), TicketChange(reopened, 1, [])])

    assert store.list_board("2026-03") == []
    assert [t.number for t in store.list_board("2026-02")] == [other_month]


def test_no_consent_keeps_a_ticket_off_the_board(store: TicketStore) -> None:
    n = number(14)
    store.create_ticket(
        _approved(n, "2026-03", datetime(2026, 3, 3, tzinfo=UTC), consent_to_publish=False),
        [],
        None,
    )
    assert store.list_board("2026-03") == []


def test_import_loads_tickets_events_and_rollups(store: TicketStore) -> None:
    views = []
    for i in range(30, 60):
        n = number(i)
        views.append(TicketView(make_ticket(n), [make_event(n, 1, T + timedelta(minutes=i))]))
    change = rollups.combine(
        {DAY: CellDelta({"received": 1}, {"response_seconds": sample(v.ticket.number, i)})}
        for i, v in enumerate(views)
    )
    store.import_tickets(views, change)

    assert store.get_ticket(views[7].ticket.number) == views[7]
    cell = read(store)[DAY]
    assert cell.counts == {"received": 30}
    assert cell.samples["response_seconds"] == list(range(30))
    # Imported samples can later be removed by a change of their ticket.
    t = views[0].ticket
    store.save_tickets(
        [
            TicketChange(
                t.replace(version=2),
                1,
                [],
                {DAY: CellDelta(removed={"response_seconds": sample(t.number, 0)})},
            )
        ]
    )
    assert len(read(store)[DAY].samples["response_seconds"]) == 29
