"""``list_submitted`` (Open311's ``GET requests``) on every adapter: the window, the order, the
paging, and that a window reads only its own tickets."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.domain.tickets import Ticket
from chalicelib.store.port import TicketChange, TicketStore
from chalicelib.store.sqlite import SqliteStore
from tests.support.stores import make_store
from tests.support.tickets import CET, T0, make_event, make_ticket, number


def _put(store: TicketStore, i: int, at: Any, **changes: Any) -> Ticket:
    ticket = make_ticket(number(i), submitted_at=at, updated_at=at, **changes)
    store.create_ticket(ticket, [make_event(ticket.number, 1, at)])
    return ticket


def _numbers(tickets: list[Ticket]) -> list[str]:
    return [t.number for t in tickets]


def _counter(store: TicketStore) -> int:
    inner = getattr(store, "inner", store)
    return int(inner.items_read)


def test_a_window_lists_its_tickets_newest_first_both_ends_included(store: TicketStore) -> None:
    start, end = T0, T0 + timedelta(days=3)
    before = _put(store, 1, start - timedelta(microseconds=1))
    first = _put(store, 2, start)
    # Same instant: the number breaks the tie (descending, like the time).
    twin_a = _put(store, 3, T0 + timedelta(days=1, hours=2))
    twin_b = _put(store, 4, T0 + timedelta(days=1, hours=2))
    # Stored with another offset: the instant is what counts.
    offset = _put(store, 5, (T0 + timedelta(days=2)).astimezone(CET))
    last = _put(store, 6, end)
    after = _put(store, 7, end + timedelta(microseconds=1))

    page = store.list_submitted(start, end, None, 100)

    twins = sorted([twin_a.number, twin_b.number], reverse=True)
    assert _numbers(page.tickets) == [last.number, offset.number, *twins, first.number]
    assert page.last_key is None
    assert before.number not in _numbers(page.tickets)
    assert after.number not in _numbers(page.tickets)
    assert page.tickets[1] == offset  # the whole ticket comes back, every field


def test_bounds_in_any_offset_select_the_same_instants(store: TicketStore) -> None:
    inside = _put(store, 10, T0 + timedelta(hours=5))
    _put(store, 11, T0 - timedelta(hours=5))
    page = store.list_submitted(
        T0.astimezone(CET), (T0 + timedelta(hours=6)).astimezone(CET), None, 10
    )
    assert _numbers(page.tickets) == [inside.number]


def test_pages_resume_after_the_last_key_without_gaps_or_repeats(store: TicketStore) -> None:
    made = [_put(store, 20 + i, T0 + timedelta(hours=7 * i)) for i in range(9)]
    _put(store, 40, T0 + timedelta(hours=7 * 4))  # a twin of made[4]'s instant
    whole = store.list_submitted(T0, T0 + timedelta(days=5), None, 100)
    assert len(whole.tickets) == 10

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = store.list_submitted(T0, T0 + timedelta(days=5), after, 3)
        pages += 1
        assert len(page.tickets) <= 3
        seen.extend(_numbers(page.tickets))
        after = page.last_key
        if after is None:
            break
    assert seen == _numbers(whole.tickets)
    assert pages == 4
    assert made[0].number == seen[-1]


def test_a_full_last_page_says_nothing_follows(store: TicketStore) -> None:
    for i in range(3):
        _put(store, 50 + i, T0 + timedelta(hours=i))
    page = store.list_submitted(T0, T0 + timedelta(days=1), None, 3)
    assert len(page.tickets) == 3
    assert page.last_key is None


def test_an_empty_window_is_empty(store: TicketStore) -> None:
    _put(store, 60, T0)
    page = store.list_submitted(T0 + timedelta(days=1), T0 + timedelta(days=91), None, 10)
    assert page.tickets == []
    assert page.last_key is None


def test_a_changed_ticket_is_listed_once_in_its_new_state(store: TicketStore) -> None:
    ticket = _put(store, 70, T0)
    changed = ticket.replace(status="resolved", version=2, updated_at=T0 + timedelta(days=2))
    store.save_tickets([TicketChange(changed, 1, [])])
    page = store.list_submitted(T0 - timedelta(days=1), T0 + timedelta(days=1), None, 10)
    assert [(t.number, t.status, t.version) for t in page.tickets] == [
        (ticket.number, "resolved", 2)
    ]


def test_a_window_reads_only_its_own_tickets(store: TicketStore) -> None:
    # Many tickets outside the window, on days before and after it; three inside.
    for i in range(40):
        day = -20 + i if i < 20 else 5 + i
        _put(store, 100 + i, T0 + timedelta(days=day, hours=1))
    inside = [_put(store, 200 + i, T0 + timedelta(days=1, hours=i)) for i in range(3)]
    read_before = _counter(store)

    page = store.list_submitted(T0, T0 + timedelta(days=3), None, 100)

    assert sorted(_numbers(page.tickets)) == sorted(t.number for t in inside)
    assert _counter(store) - read_before <= len(inside)


def test_sqlite_serves_the_window_from_the_submission_index(tmp_path: Path) -> None:
    with make_store("sqlite", tmp_path) as store:
        assert isinstance(store, SqliteStore)
        with sqlite3.connect(store.path) as conn:
            plan = conn.execute(
                "EXPLAIN QUERY PLAN SELECT doc FROM tickets WHERE submitted_at >= ? "
                "AND submitted_at <= ? AND (submitted_at < ? OR (submitted_at = ? AND number < ?)) "
                "ORDER BY submitted_at DESC, number DESC LIMIT ?",
                ("a", "b", "c", "c", "d", 5),
            ).fetchall()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "USING INDEX tickets_submitted" in detail
    assert "TEMP B-TREE" not in detail  # the index gives the order: no sort of the window


def test_a_window_across_months_and_a_new_year(store: TicketStore) -> None:
    times = [
        datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2027, 2, 1, 0, 0, tzinfo=UTC),  # after the window
    ]
    made = [_put(store, 300 + i, at) for i, at in enumerate(times)]
    start, end = datetime(2026, 11, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)
    page = store.list_submitted(start, end, None, 2)
    assert _numbers(page.tickets) == [made[2].number, made[1].number]
    rest = store.list_submitted(start, end, page.last_key, 2)
    assert _numbers(rest.tickets) == [made[0].number]
    assert rest.last_key is None
