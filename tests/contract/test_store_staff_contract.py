"""The storage-port contract for the staff side: every test runs on every adapter.

Covers what staff use cases ask of a store: saving ticket changes at an expected version (one
transaction for several tickets), appending audit events, staff queues (order, paging, filters),
the due list the SLA sweep reads, and staff accounts, tokens and canned responses.

Times are fixed values around ``T0``, never the clock.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

import pytest

from chalicelib.domain.staff import CannedResponse, StaffMember, TokenRecord
from chalicelib.domain.tickets import OPEN_STATUSES, STATUSES, Event, Ticket
from chalicelib.errors import NotFoundError, StaleVersionError
from chalicelib.store.dynamodb import keys
from chalicelib.store.port import QueuePage, QueueQuery, TicketChange, TicketStore, TicketView
from tests.support.tickets import CET, T0, make_event, make_ticket, number

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
OPEN = tuple(s for s in STATUSES if s in OPEN_STATUSES)
DEPARTMENTS = ("parks", "public-works", "water")
EVERYTHING = QueueQuery(departments=DEPARTMENTS, statuses=STATUSES)


class _CountsReads(Protocol):
    items_read: int


# -- helpers ------------------------------------------------------------------------------------


def _seed(store: TicketStore, n: str, **changes: object) -> tuple[Ticket, Event]:
    """Create ticket ``n`` at version 1 with one submitted event."""
    ticket = make_ticket(n, **changes)
    event = make_event(n, 1, T0)
    store.create_ticket(ticket, [event])
    return ticket, event


def _next(ticket: Ticket, **changes: object) -> Ticket:
    """The ticket's next version with ``changes`` applied."""
    return ticket.replace(version=ticket.version + 1, **changes)


def _save(
    store: TicketStore, ticket: Ticket, events: list[Event] | None = None, **changes: object
) -> Ticket:
    """Save the next version of ``ticket``; return it."""
    new = _next(ticket, **changes)
    store.save_tickets([TicketChange(new, ticket.version, events or [])])
    return new


def _view(store: TicketStore, n: str) -> TicketView:
    view = store.get_ticket(n)
    assert view is not None, f"ticket {n} is missing"
    return view


def _staff_event(n: str, seq: int, at: datetime, kind: str = "status_changed") -> Event:
    return make_event(
        n,
        seq,
        at,
        kind=kind,
        public=kind != "note",
        actor="staff:ada",
        actor_label="agent (parks)",
        text=f"{kind} {seq}: ünïcödé 处理中",
        data={"from": "received", "to": "acknowledged", "seq": seq, "nested": {"a": [1, None]}},
    )


def _sla_attributes(ticket: Ticket) -> dict[str, object]:
    return {
        **ticket.attributes,
        "sla": {
            "first_response": {
                "due": "2026-11-26T19:30:41.123456+00:00",
                "warned_at": "2026-11-26T15:30:41.123456+00:00",
                "breached": False,
            },
            "resolution": {"paused_seconds": 3600, "ratio": 0.5, "breached_at": None},
            "history": [{"kind": "warning", "round": 1}, {"kind": "paused", "round": 1}],
        },
    }


def _assert_nothing_stored_for(store: TicketStore, n: str) -> None:
    """``n`` does not exist, and no orphan event was left under it either."""
    assert store.get_ticket(n) is None
    # An orphan event would show up once the ticket exists.
    bare = make_ticket(n)
    store.create_ticket(bare, [])
    assert store.get_ticket(n) == TicketView(ticket=bare, events=[])


def _numbers(tickets: list[Ticket]) -> list[str]:
    return [t.number for t in tickets]


def _queue_order(ticket: Ticket) -> tuple[bool, datetime, str]:
    """The queue order spelled out: due time ascending, then nothing due by updated_at."""
    return (ticket.due_at is None, ticket.due_at or ticket.updated_at, ticket.number)


def _all_pages(store: TicketStore, query: QueueQuery, limit: int) -> list[QueuePage]:
    pages: list[QueuePage] = []
    after: str | None = None
    for _ in range(200):
        page = store.list_queue(query, after, limit)
        pages.append(page)
        if page.last_key is None:
            return pages
        after = page.last_key
    raise AssertionError(f"paging {query} with limit {limit} did not end")


# -- save_tickets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "due_at",
    [
        pytest.param(None, id="due-none"),
        pytest.param((T0 + timedelta(days=3, microseconds=7)).astimezone(CET), id="due-set"),
    ],
)
def test_save_replaces_the_ticket_and_appends_events(
    store: TicketStore, due_at: datetime | None
) -> None:
    n = number(1)
    v1, submitted = _seed(store, n)
    v2 = _next(
        v1,
        status="acknowledged",
        priority="P1",
        department="parks",
        assignee=None,
        subject="更新 — updated",
        updated_at=T0 + HOUR,
        due_at=due_at,
        first_response_at=(T0 + HOUR).astimezone(CET),
        escalated=True,
        event_seq=3,
        attributes=_sla_attributes(v1),
        public_summary="Crew sent",
    )
    events = [_staff_event(n, 2, T0 + HOUR), _staff_event(n, 3, T0 + HOUR, kind="note")]

    store.save_tickets([TicketChange(v2, 1, events)])

    view = _view(store, n)
    assert view == TicketView(ticket=v2, events=[submitted, *events])
    assert view.ticket.version == 2
    assert view.ticket.due_at == due_at
    assert view.ticket.assignee is None
    assert view.ticket.first_response_at == T0 + HOUR
    assert view.ticket.attributes["sla"] == v2.attributes["sla"]
    assert view.ticket.attributes["sla"]["resolution"]["ratio"] == 0.5
    assert view.ticket.attributes["sla"]["resolution"]["breached_at"] is None
    assert [e.seq for e in view.events] == [1, 2, 3]
    assert view.events[2].public is False

    # A later save sets the fields back and appends after the earlier events.
    v3 = _next(
        v2,
        status="in_progress",
        assignee="staff:grace",
        due_at=T0 + timedelta(days=5),
        first_response_at=None,
        attributes={},
        updated_at=T0 + 2 * HOUR,
    )
    later = _staff_event(n, 4, T0 + 2 * HOUR)
    store.save_tickets([TicketChange(v3, 2, [later])])

    assert _view(store, n) == TicketView(ticket=v3, events=[submitted, *events, later])


def test_save_without_events_changes_only_the_ticket(store: TicketStore) -> None:
    n = number(2)
    v1, submitted = _seed(store, n)

    v2 = _save(store, v1, assignee="staff:ada")

    assert _view(store, n) == TicketView(ticket=v2, events=[submitted])


@pytest.mark.parametrize("version_offset", [0, 2, -1])
def test_save_rejects_a_version_that_is_not_expected_plus_one(
    store: TicketStore, version_offset: int
) -> None:
    n = number(3)
    v1, submitted = _seed(store, n)
    bad = v1.replace(version=1 + version_offset, status="acknowledged")

    with pytest.raises(ValueError, match="expected_version"):
        store.save_tickets([TicketChange(bad, 1, [_staff_event(n, 2, T0 + HOUR)])])

    assert _view(store, n) == TicketView(ticket=v1, events=[submitted])


def test_save_checks_every_version_before_writing_any(store: TicketStore) -> None:
    a, b = number(4), number(5)
    a1, a_submitted = _seed(store, a)
    b1, b_submitted = _seed(store, b)

    with pytest.raises(ValueError, match="expected_version"):
        store.save_tickets(
            [
                TicketChange(_next(a1, status="merged"), 1, [_staff_event(a, 2, T0 + HOUR)]),
                TicketChange(b1.replace(version=5), 1, [_staff_event(b, 2, T0 + HOUR)]),
            ]
        )

    assert _view(store, a) == TicketView(ticket=a1, events=[a_submitted])
    assert _view(store, b) == TicketView(ticket=b1, events=[b_submitted])


@pytest.mark.parametrize("expected_version", [1, 3], ids=["behind", "ahead"])
def test_stale_version_writes_nothing(store: TicketStore, expected_version: int) -> None:
    n = number(6)
    v1, submitted = _seed(store, n)
    first = _staff_event(n, 2, T0 + HOUR)
    v2 = _save(store, v1, [first], status="acknowledged")

    stale = v1.replace(version=expected_version + 1, status="rejected", due_at=None)
    with pytest.raises(StaleVersionError):
        store.save_tickets(
            [TicketChange(stale, expected_version, [_staff_event(n, 3, T0 + 2 * HOUR)])]
        )

    assert _view(store, n) == TicketView(ticket=v2, events=[submitted, first])


def test_saving_an_unknown_ticket_is_not_found_and_writes_nothing(store: TicketStore) -> None:
    n = number(7)
    ghost = make_ticket(n, version=2)

    with pytest.raises(NotFoundError):
        store.save_tickets([TicketChange(ghost, 1, [_staff_event(n, 2, T0 + HOUR)])])

    _assert_nothing_stored_for(store, n)


def test_save_two_tickets_together(store: TicketStore) -> None:
    """A merge: the duplicate is closed into the target and the target gets a note."""
    dup, target = number(8), number(9)
    d1, d_submitted = _seed(store, dup)
    t1, t_submitted = _seed(store, target)
    d2 = _next(d1, status="merged", merged_into=target, due_at=None)
    t2 = _next(t1, attributes={**t1.attributes, "merged_from": [dup]})
    d_event = _staff_event(dup, 2, T0 + HOUR, kind="merged")
    t_event = _staff_event(target, 2, T0 + HOUR, kind="note")

    store.save_tickets([TicketChange(d2, 1, [d_event]), TicketChange(t2, 1, [t_event])])

    assert _view(store, dup) == TicketView(ticket=d2, events=[d_submitted, d_event])
    assert _view(store, target) == TicketView(ticket=t2, events=[t_submitted, t_event])


@pytest.mark.parametrize("stale_first", [False, True], ids=["second-stale", "first-stale"])
def test_one_stale_change_cancels_the_whole_save(store: TicketStore, stale_first: bool) -> None:
    a, b = number(10), number(11)
    a1, a_submitted = _seed(store, a)
    b1, b_submitted = _seed(store, b)
    b_event = _staff_event(b, 2, T0 + HOUR)
    b2 = _save(store, b1, [b_event], status="acknowledged")

    good = TicketChange(_next(a1, status="merged", due_at=None), 1, [_staff_event(a, 2, T0)])
    stale = TicketChange(_next(b1, status="rejected"), 1, [_staff_event(b, 3, T0 + 2 * HOUR)])
    with pytest.raises(StaleVersionError):
        store.save_tickets([stale, good] if stale_first else [good, stale])

    assert _view(store, a) == TicketView(ticket=a1, events=[a_submitted])
    assert _view(store, b) == TicketView(ticket=b2, events=[b_submitted, b_event])
    assert _numbers(store.list_queue(EVERYTHING, None, 10).tickets) == _numbers(
        sorted([a1, b2], key=_queue_order)
    )


def test_one_unknown_ticket_cancels_the_whole_save(store: TicketStore) -> None:
    a, ghost = number(12), number(13)
    a1, a_submitted = _seed(store, a)

    with pytest.raises(NotFoundError):
        store.save_tickets(
            [
                TicketChange(_next(a1, status="merged"), 1, [_staff_event(a, 2, T0 + HOUR)]),
                TicketChange(make_ticket(ghost, version=2), 1, [_staff_event(ghost, 2, T0)]),
            ]
        )

    assert _view(store, a) == TicketView(ticket=a1, events=[a_submitted])
    _assert_nothing_stored_for(store, ghost)


def _race_saves(store: TicketStore, attempts: dict[str, TicketChange]) -> dict[str, str]:
    """Run each change in its own thread, released together; the outcome of each."""
    barrier = threading.Barrier(len(attempts))
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def save(who: str, change: TicketChange) -> None:
        barrier.wait(timeout=30)
        try:
            store.save_tickets([change])
            outcome = "saved"
        except StaleVersionError:
            outcome = "stale"
        except Exception as e:  # recorded so the assertion shows it
            outcome = f"{type(e).__name__}: {e}"
        with lock:
            outcomes[who] = outcome

    threads = [threading.Thread(target=save, args=item) for item in attempts.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_racing_saves_at_one_version_let_exactly_one_win(store: TicketStore) -> None:
    n = number(14)
    current, submitted = _seed(store, n)
    timeline = [submitted]
    for round_ in range(3):
        seq = current.version + 1
        attempts = {
            who: TicketChange(
                _next(current, assignee=f"staff:{who}", subject=f"{who} {round_}"),
                current.version,
                [_staff_event(n, seq, T0 + (round_ + 1) * HOUR + offset, kind=f"claimed-{who}")],
            )
            for who, offset in (("ada", timedelta(0)), ("grace", MINUTE))
        }

        outcomes = _race_saves(store, attempts)

        assert sorted(outcomes.values()) == ["saved", "stale"], outcomes
        winner = next(who for who, outcome in outcomes.items() if outcome == "saved")
        view = _view(store, n)
        assert view.ticket == attempts[winner].ticket
        assert view.ticket.version == round_ + 2
        timeline.extend(attempts[winner].events)
        assert view.events == timeline
        current = view.ticket


# -- append_events ------------------------------------------------------------------------------


def test_append_events_keeps_the_ticket_and_its_version(store: TicketStore) -> None:
    n = number(20)
    v1, submitted = _seed(store, n)
    v2 = _save(store, v1, [_staff_event(n, 2, T0 + HOUR)], status="acknowledged")
    audit = [
        _staff_event(n, 3, T0 + 2 * HOUR, kind="contact_viewed"),
        _staff_event(n, 4, T0 + 2 * HOUR, kind="note"),
    ]

    store.append_events(n, audit)
    store.append_events(n, [_staff_event(n, 5, T0 + 3 * HOUR, kind="contact_viewed")])

    view = _view(store, n)
    assert view.ticket == v2
    assert view.ticket.version == 2
    assert [e.seq for e in view.events] == [1, 2, 3, 4, 5]
    assert view.events[2:4] == audit
    assert view.events[0] == submitted

    # The version is unchanged, so a save at version 2 still succeeds.
    v3 = _save(store, v2, status="in_progress")
    assert _view(store, n).ticket == v3


def test_append_events_to_an_unknown_ticket_is_not_found(store: TicketStore) -> None:
    n = number(21)

    with pytest.raises(NotFoundError):
        store.append_events(n, [_staff_event(n, 1, T0, kind="note")])

    _assert_nothing_stored_for(store, n)


# -- list_queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    department: str
    status: str
    priority: str
    assignee: str | None
    due_in: timedelta | None  # None: nothing due
    updated_in: timedelta


QUEUE_SPECS: tuple[_Spec, ...] = (
    _Spec("parks", "received", "P1", "staff:ada", 5 * HOUR, MINUTE),
    _Spec("parks", "received", "P2", None, HOUR, 2 * MINUTE),
    _Spec("parks", "acknowledged", "P3", "staff:grace", None, 10 * MINUTE),
    _Spec("parks", "in_progress", "P1", "staff:ada", 30 * HOUR, 3 * MINUTE),
    _Spec("public-works", "received", "P2", "staff:grace", 2 * HOUR, 4 * MINUTE),
    _Spec("public-works", "received", "P1", None, None, 5 * MINUTE),
    _Spec("public-works", "awaiting_info", "P2", "staff:ada", 3 * HOUR, 6 * MINUTE),
    _Spec("public-works", "resolved", "P3", "staff:grace", 72 * HOUR, 7 * MINUTE),
    # Same due time as the second ticket: the number breaks the tie.
    _Spec("water", "received", "P3", None, HOUR, 8 * MINUTE),
    _Spec("water", "in_progress", "P1", "staff:ada", None, MINUTE),
    _Spec("water", "closed", "P2", None, None, 20 * MINUTE),
    _Spec("parks", "received", "P2", "staff:grace", 26 * HOUR, 9 * MINUTE),
    _Spec("public-works", "in_progress", "P3", "staff:ada", None, 15 * MINUTE),
    _Spec("water", "reopened", "P1", "staff:grace", 4 * HOUR, 11 * MINUTE),
)


def _seed_queue(store: TicketStore) -> list[Ticket]:
    tickets = []
    for i, spec in enumerate(QUEUE_SPECS):
        ticket = make_ticket(
            number(100 + i),
            department=spec.department,
            status=spec.status,
            priority=spec.priority,
            assignee=spec.assignee,
            due_at=None if spec.due_in is None else (T0 + spec.due_in).astimezone(CET),
            updated_at=T0 + spec.updated_in,
        )
        store.create_ticket(ticket, [])
        tickets.append(ticket)
    return tickets


def _matches(query: QueueQuery, t: Ticket) -> bool:
    return (
        t.department in query.departments
        and t.status in query.statuses
        and (query.priority is None or t.priority == query.priority)
        and (query.assignee is None or t.assignee == query.assignee)
        and (query.due_before is None or (t.due_at is not None and t.due_at < query.due_before))
    )


def test_queue_order_is_due_time_then_nothing_due_by_updated_at(store: TicketStore) -> None:
    tickets = _seed_queue(store)

    page = store.list_queue(EVERYTHING, None, 100)

    assert page.last_key is None
    assert page.tickets == sorted(tickets, key=_queue_order)
    assert page.tickets == sorted(tickets, key=lambda t: t.queue_sort_key)
    due = [t for t in page.tickets if t.due_at is not None]
    nothing_due = [t for t in page.tickets if t.due_at is None]
    assert page.tickets == due + nothing_due
    assert [t.due_at for t in due] == sorted(t.due_at for t in due if t.due_at)
    assert [t.updated_at for t in nothing_due] == sorted(t.updated_at for t in nothing_due)


@pytest.mark.parametrize("limit", [1, 2, 100])
def test_queue_pages_visit_every_ticket_once(store: TicketStore, limit: int) -> None:
    tickets = _seed_queue(store)
    query = QueueQuery(DEPARTMENTS, ("received", "acknowledged", "in_progress"))
    expected = _numbers(sorted((t for t in tickets if _matches(query, t)), key=_queue_order))
    assert len(expected) == 10

    pages = _all_pages(store, query, limit)

    seen = [n for page in pages for n in _numbers(page.tickets)]
    assert seen == expected
    assert len(pages) == math.ceil(len(expected) / limit)
    assert all(1 <= len(page.tickets) <= limit for page in pages)
    assert all(page.last_key is not None for page in pages[:-1])
    assert pages[-1].last_key is None


FILTERS: dict[str, QueueQuery] = {
    "one-department-open": QueueQuery(("parks",), OPEN),
    "two-departments-received": QueueQuery(("parks", "water"), ("received",)),
    "closed-statuses": QueueQuery(DEPARTMENTS, ("resolved", "closed")),
    "priority": QueueQuery(DEPARTMENTS, OPEN, priority="P1"),
    "assignee": QueueQuery(DEPARTMENTS, OPEN, assignee="staff:ada"),
    # Equal to one ticket's due time: that ticket is not before it.
    "due-before": QueueQuery(DEPARTMENTS, OPEN, due_before=T0 + 4 * HOUR),
    "combined": QueueQuery(
        ("parks", "public-works"),
        OPEN,
        priority="P2",
        assignee="staff:grace",
        due_before=T0 + 30 * HOUR,
    ),
    "no-match": QueueQuery(("water",), ("received",), assignee="staff:ada"),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_queue_filters(store: TicketStore, name: str) -> None:
    tickets = _seed_queue(store)
    query = FILTERS[name]
    expected = _numbers(sorted((t for t in tickets if _matches(query, t)), key=_queue_order))
    # The dataset is built so that each filter keeps some tickets and excludes others.
    unfiltered = dataclasses.replace(query, priority=None, assignee=None, due_before=None)
    wider = [t for t in tickets if _matches(unfiltered, t)] if unfiltered != query else tickets
    assert len(expected) < len(wider)
    assert bool(expected) == (name != "no-match")

    page = store.list_queue(query, None, 100)
    assert _numbers(page.tickets) == expected
    assert page.last_key is None

    if unfiltered == query:
        return  # paging over partitions: test_queue_pages_visit_every_ticket_once
    # Small pages: DynamoDB filters after its per-request Limit, so pages must keep reading
    # (one at a time where it matters; two elsewhere, to keep the suite fast).
    limit = 1 if name in ("priority", "combined", "no-match") else 2
    pages = _all_pages(store, query, limit)
    assert [n for page in pages for n in _numbers(page.tickets)] == expected
    assert len(pages) == max(1, math.ceil(len(expected) / limit))
    assert pages[-1].last_key is None


def test_queue_without_departments_or_statuses_is_empty(store: TicketStore) -> None:
    _seed_queue(store)

    assert store.list_queue(QueueQuery((), STATUSES), None, 10) == QueuePage([], None)
    assert store.list_queue(QueueQuery(DEPARTMENTS, ()), None, 10) == QueuePage([], None)
    assert store.list_queue(QueueQuery(("roads",), STATUSES), None, 10) == QueuePage([], None)


def test_saved_ticket_moves_to_its_new_queue(store: TicketStore) -> None:
    tickets = _seed_queue(store)
    moving = tickets[0]  # parks, received
    parks_received = QueueQuery(("parks",), ("received",))
    parks_acknowledged = QueueQuery(("parks",), ("acknowledged",))
    water_acknowledged = QueueQuery(("water",), ("acknowledged",))

    def queue(query: QueueQuery) -> list[Ticket]:
        return [t for page in _all_pages(store, query, 100) for t in page.tickets]

    assert moving in queue(parks_received)

    acknowledged = _save(store, moving, status="acknowledged", updated_at=T0 + HOUR)
    assert moving.number not in _numbers(queue(parks_received))
    assert acknowledged in queue(parks_acknowledged)

    moved = _save(store, acknowledged, department="water", due_at=T0 - HOUR)
    assert moving.number not in _numbers(queue(parks_acknowledged))
    assert queue(water_acknowledged) == [moved]

    # A new due time moves it within the queue: earliest first.
    everything = queue(EVERYTHING)
    assert everything[0] == moved
    later = _save(store, moved, due_at=None, updated_at=T0 + 2 * HOUR)
    everything = queue(EVERYTHING)
    assert everything[-1] == later
    assert _numbers(everything) == _numbers(
        sorted([later, *(t for t in tickets if t.number != moving.number)], key=_queue_order)
    )


# -- list_due -----------------------------------------------------------------------------------


def _seed_due(store: TicketStore, offsets: list[timedelta | None], start: int) -> list[Ticket]:
    tickets = []
    for i, offset in enumerate(offsets):
        n = number(start + i)
        status = "received" if offset is not None else "closed"
        ticket = make_ticket(
            n,
            status=status,
            due_at=None if offset is None else (T0 + offset).astimezone(CET),
            updated_at=T0 + i * MINUTE,
        )
        store.create_ticket(ticket, [])
        tickets.append(ticket)
    return tickets


DUE_OFFSETS: list[timedelta | None] = [
    3 * HOUR,
    None,
    -HOUR,
    10 * HOUR,  # exactly the bound: not before it
    HOUR,
    None,
    2 * HOUR + timedelta(microseconds=1),
    -2 * HOUR,
    48 * HOUR,
    HOUR - timedelta(microseconds=1),
]
BOUND = T0 + 10 * HOUR


def test_due_lists_only_what_is_due_earliest_first(store: TicketStore) -> None:
    tickets = _seed_due(store, DUE_OFFSETS, 200)
    due = sorted(
        (t for t in tickets if t.due_at is not None and t.due_at < BOUND),
        key=lambda t: cast("datetime", t.due_at),
    )
    assert len(due) == 6
    assert len({keys.due_shard(t.number) for t in due}) > 1  # the merge across shards matters

    assert store.list_due(BOUND, 100) == due
    assert store.list_due(BOUND, 6) == due
    assert store.list_due(BOUND, 3) == due[:3]
    assert store.list_due(BOUND, 1) == due[:1]
    assert store.list_due(T0 - 2 * HOUR, 10) == []
    assert store.list_due(T0 - 2 * HOUR + timedelta(microseconds=1), 10) == due[:1]
    everything = store.list_due(T0 + timedelta(days=365), 100)
    assert len(everything) == 8
    assert all(t.due_at is not None for t in everything)


def test_due_list_follows_saved_due_times(store: TicketStore) -> None:
    tickets = _seed_due(store, [HOUR, 2 * HOUR, 3 * HOUR, 20 * HOUR], 220)
    first, second, third, fourth = tickets

    cleared = _save(store, first, status="resolved", due_at=None)
    assert store.list_due(BOUND, 10) == [second, third]

    pushed = _save(store, second, due_at=T0 + 11 * HOUR)
    assert store.list_due(BOUND, 10) == [third]

    pulled = _save(store, fourth, due_at=T0 - HOUR)
    assert store.list_due(BOUND, 10) == [pulled, third]

    again = _save(store, cleared, status="reopened", due_at=T0 + 5 * HOUR)
    assert store.list_due(BOUND, 10) == [pulled, third, again]
    assert store.list_due(T0 + 12 * HOUR, 10) == [pulled, third, again, pushed]


def test_due_reads_only_what_is_due(store: TicketStore) -> None:
    offsets: list[timedelta | None] = [
        -HOUR if i in (4, 17, 29) else (None if i % 2 else (i + 1) * 2 * HOUR) for i in range(30)
    ]
    tickets = _seed_due(store, offsets, 300)
    due = sorted((t for t in tickets if t.due_at is not None and t.due_at < T0), key=_queue_order)
    assert len(due) == 3
    counter = cast("_CountsReads", store)
    before = counter.items_read

    assert store.list_due(T0, 10) == due

    assert counter.items_read - before <= 3 + 2


# -- staff --------------------------------------------------------------------------------------


def _member(staff_id: str, **changes: object) -> StaffMember:
    member = StaffMember(
        id=staff_id,
        name="Ada Lovelace — 艾达",
        role="agent",
        departments=("parks", "water"),
        created_at=T0.astimezone(CET),
    )
    return dataclasses.replace(member, **changes)


def test_staff_round_trip_and_replace(store: TicketStore) -> None:
    ada = _member("ada")
    grace = _member("grace", name="Grace", role="admin", departments=("*",), active=False)
    nobody = _member("nobody", role="supervisor", departments=())

    for member in (grace, ada, nobody):
        store.put_staff(member)

    assert store.get_staff("ada") == ada
    assert store.get_staff("grace") == grace
    assert store.get_staff("nobody") == nobody
    stored = store.get_staff("ada")
    assert stored is not None
    assert stored.departments == ("parks", "water")
    assert isinstance(stored.departments, tuple)
    assert stored.active is True
    assert store.get_staff("grace") is not None
    assert store.get_staff("missing") is None
    assert sorted(store.list_staff(), key=lambda m: m.id) == [ada, grace, nobody]

    promoted = _member("ada", role="supervisor", departments=("water",), active=False)
    store.put_staff(promoted)

    assert store.get_staff("ada") == promoted
    assert sorted(store.list_staff(), key=lambda m: m.id) == [promoted, grace, nobody]


def test_no_staff_lists_empty(store: TicketStore) -> None:
    assert store.list_staff() == []
    assert store.get_staff("ada") is None


# -- tokens -------------------------------------------------------------------------------------


def _token(token_hash: str, staff_id: str, created: timedelta, **changes: object) -> TokenRecord:
    token = TokenRecord(
        token_hash=token_hash,
        staff_id=staff_id,
        label=f"laptop {token_hash} — 笔记本",
        created_at=(T0 + created).astimezone(CET),
        expires_at=T0 + created + timedelta(days=90),
    )
    return dataclasses.replace(token, **changes)


def test_tokens_round_trip_listed_by_creation_time(store: TicketStore) -> None:
    newest = _token("sha256:cc", "ada", 3 * HOUR)
    oldest = _token("sha256:zz", "ada", HOUR)
    middle = _token("sha256:aa", "ada", 2 * HOUR, last_used_at=T0 + 5 * HOUR)
    other = _token("sha256:bb", "grace", 90 * MINUTE)
    # "adam" shares a prefix with "ada": their lists must not mix.
    prefixed = _token("sha256:dd", "adam", 0 * HOUR)
    for token in (newest, other, oldest, prefixed, middle):
        store.put_token(token)

    assert store.get_token("sha256:cc") == newest
    assert store.get_token("sha256:aa") == middle
    assert store.get_token("sha256:missing") is None
    assert store.list_tokens("ada") == [oldest, middle, newest]
    assert store.list_tokens("grace") == [other]
    assert store.list_tokens("adam") == [prefixed]
    assert store.list_tokens("nobody") == []


def test_token_updates_replace_the_record(store: TicketStore) -> None:
    first = _token("sha256:01", "ada", HOUR)
    second = _token("sha256:02", "ada", 2 * HOUR)
    store.put_token(first)
    store.put_token(second)

    used = dataclasses.replace(first, last_used_at=T0 + 4 * HOUR)
    store.put_token(used)
    assert store.get_token("sha256:01") == used

    revoked = dataclasses.replace(used, revoked_at=(T0 + 5 * HOUR).astimezone(CET))
    store.put_token(revoked)

    stored = store.get_token("sha256:01")
    assert stored == revoked
    assert stored is not None
    assert not stored.usable(T0 + 6 * HOUR)
    assert store.list_tokens("ada") == [revoked, second]


# -- canned responses ---------------------------------------------------------------------------


def _canned(canned_id: str, **changes: object) -> CannedResponse:
    canned = CannedResponse(
        id=canned_id,
        title=f"Title {canned_id}",
        text="Ticket {number} — {category}: 已处理 {unknown}",
        category="environment/street-lighting",
        created_at=T0.astimezone(CET),
    )
    return dataclasses.replace(canned, **changes)


def test_canned_responses_put_list_replace_delete(store: TicketStore) -> None:
    by_id = operator.attrgetter("id")
    assert store.list_canned() == []
    general = _canned("thanks", category=None)
    lighting = _canned("lamp-fixed")
    store.put_canned(general)
    store.put_canned(lighting)

    assert sorted(store.list_canned(), key=by_id) == [lighting, general]

    edited = _canned("thanks", text="Merci {number}", category=None)
    store.put_canned(edited)
    assert sorted(store.list_canned(), key=by_id) == [lighting, edited]

    assert store.delete_canned("thanks") is True
    assert store.delete_canned("thanks") is False
    assert store.delete_canned("never-existed") is False
    assert store.list_canned() == [lighting]


# -- edges where the adapters disagreed (see each test) -----------------------------------------


def test_saving_no_changes_does_nothing(store: TicketStore) -> None:
    """An empty list is a no-op on every adapter (DynamoDB rejects an empty transaction)."""
    n = number(400)
    v1, submitted = _seed(store, n)

    store.save_tickets([])

    assert _view(store, n) == TicketView(ticket=v1, events=[submitted])


def test_one_ticket_twice_in_one_save_is_rejected_before_writing(store: TicketStore) -> None:
    """Each ticket may appear once per save (DynamoDB cannot put one item twice in a
    transaction); the adapters must refuse it the same way, writing nothing."""
    n = number(401)
    v1, submitted = _seed(store, n)
    v2 = _next(v1, status="acknowledged")
    v3 = _next(v2, status="in_progress")

    with pytest.raises(ValueError, match=n):
        store.save_tickets(
            [
                TicketChange(v2, 1, [_staff_event(n, 2, T0 + HOUR)]),
                TicketChange(v3, 2, [_staff_event(n, 3, T0 + 2 * HOUR)]),
            ]
        )

    assert _view(store, n) == TicketView(ticket=v1, events=[submitted])


def test_appending_another_tickets_event_is_rejected(store: TicketStore) -> None:
    a, b = number(402), number(403)
    a1, a_submitted = _seed(store, a)
    b1, b_submitted = _seed(store, b)

    with pytest.raises(ValueError, match=b):
        store.append_events(a, [_staff_event(b, 900_001, T0 + HOUR, kind="contact_viewed")])

    assert _view(store, a) == TicketView(ticket=a1, events=[a_submitted])
    assert _view(store, b) == TicketView(ticket=b1, events=[b_submitted])


def test_events_with_one_seq_at_different_times_are_both_kept(store: TicketStore) -> None:
    """An event is identified by its time and seq (``EVENT#<iso time>#<seq>``): audit entries
    draw a random high seq, and two reads that draw the same one must both be recorded."""
    n = number(404)
    v1, submitted = _seed(store, n)
    first = _staff_event(n, 900_123, T0 + HOUR, kind="contact_viewed")
    second = _staff_event(n, 900_123, T0 + 2 * HOUR, kind="contact_viewed")

    store.append_events(n, [first])
    store.append_events(n, [second])

    assert _view(store, n) == TicketView(ticket=v1, events=[submitted, first, second])


def test_repeated_departments_and_statuses_list_each_ticket_once(store: TicketStore) -> None:
    tickets = _seed_queue(store)
    query = QueueQuery(("parks", "water", "parks"), ("received", "in_progress", "received"))
    expected = _numbers(sorted((t for t in tickets if _matches(query, t)), key=_queue_order))
    assert len(expected) > 2

    assert _numbers(store.list_queue(query, None, 100).tickets) == expected
    pages = _all_pages(store, query, 2)
    assert [n for page in pages for n in _numbers(page.tickets)] == expected
