"""The storage-port contract: every test runs on every adapter (``store`` is parametrized).

Times are fixed values, not the clock: idempotency expiry is decided against the ``now`` given to
``get_idempotency`` and, on create, against the new record's ``created_at``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import IdempotencyExistsError, NumberTakenError
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.port import TicketStore, TicketView
from tests.support.stores import sqlite_path
from tests.support.tickets import CET, T0, make_event, make_record, make_ticket, number


def test_create_and_get_round_trip_every_field(store: TicketStore) -> None:
    n = number(1)
    ticket = make_ticket(n)
    events = [
        make_event(n, 3, T0 + timedelta(minutes=5), public=False, actor="staff:7", text=""),
        make_event(n, 1, T0),
        # Same instant as seq 1, different offset: seq breaks the tie.
        make_event(n, 2, T0.astimezone(CET), kind="triaged", actor="system", data={}),
    ]

    store.create_ticket(ticket, events)
    view = store.get_ticket(n)

    assert view == TicketView(ticket=ticket, events=sorted(events, key=lambda e: (e.at, e.seq)))
    assert [e.seq for e in view.events] == [1, 2, 3]
    # Equal instants compare equal across offsets; microseconds must survive too.
    assert view.ticket.submitted_at.microsecond == 123456
    assert view.ticket.attributes["ratio"] == 0.25
    assert view.ticket.attributes["nested"] == ticket.attributes["nested"]
    assert view.events[2].public is False
    assert view.events[2].text == ""


def test_round_trip_with_optional_fields_empty(store: TicketStore) -> None:
    n = number(2)
    ticket = make_ticket(
        n,
        location=None,
        contact_ciphertext=None,
        consent_to_contact=False,
        consent_to_publish=False,
        assignee=None,
        attributes={},
        description="",
        language="en",
        status="received",
        version=1,
    )

    store.create_ticket(ticket, [])
    view = store.get_ticket(n)

    assert view == TicketView(ticket=ticket, events=[])
    assert view.ticket.location is None
    assert view.ticket.contact_ciphertext is None
    assert view.ticket.assignee is None
    assert view.ticket.attributes == {}


def test_get_missing_ticket_is_none(store: TicketStore) -> None:
    store.create_ticket(make_ticket(number(3)), [make_event(number(3), 1, T0)])

    assert store.get_ticket(number(4)) is None


def test_number_collision_writes_nothing(store: TicketStore) -> None:
    n = number(5)
    original = make_ticket(n)
    original_events = [make_event(n, 1, T0)]
    store.create_ticket(original, original_events, make_record("idem-first", n))

    intruder = make_ticket(n, subject="another", status="acknowledged", version=7)
    intruder_events = [
        make_event(n, 1, T0 + timedelta(seconds=1), text="other"),
        make_event(n, 2, T0 + timedelta(seconds=2)),
    ]
    with pytest.raises(NumberTakenError):
        store.create_ticket(intruder, intruder_events, make_record("idem-second", n))

    assert store.get_ticket(n) == TicketView(ticket=original, events=original_events)
    assert store.get_idempotency("idem-second", T0) is None
    assert store.get_idempotency("idem-first", T0) == make_record("idem-first", n)


def test_idempotency_record_is_stored_with_the_ticket(store: TicketStore) -> None:
    n = number(6)
    record = make_record("idem-6", n)

    store.create_ticket(make_ticket(n), [make_event(n, 1, T0)], record)

    assert store.get_idempotency("idem-6", T0) == record
    assert store.get_idempotency("idem-6", record.expires_at - timedelta(microseconds=1)) == record
    assert store.get_idempotency("idem-other", T0) is None
    assert store.get_ticket(n) is not None


def test_same_idempotency_key_twice_keeps_only_the_first(store: TicketStore) -> None:
    first, second = number(7), number(8)
    # Unexpired whatever clock an adapter might consult.
    far = datetime(2099, 1, 1, tzinfo=UTC)
    store.create_ticket(make_ticket(first), [], make_record("idem-7", first, expires_at=far))

    with pytest.raises(IdempotencyExistsError):
        store.create_ticket(
            make_ticket(second),
            [make_event(second, 1, T0)],
            make_record("idem-7", second, created_at=T0 + timedelta(seconds=1), expires_at=far),
        )

    assert store.get_ticket(second) is None
    assert store.get_ticket(first) is not None
    record = store.get_idempotency("idem-7", T0)
    assert record is not None
    assert record.number == first


def test_expired_idempotency_record_is_gone_and_the_key_reusable(store: TicketStore) -> None:
    first, second = number(9), number(10)
    old = make_record("idem-9", first, created_at=T0, expires_at=T0 + timedelta(hours=1))
    store.create_ticket(make_ticket(first), [], old)

    assert store.get_idempotency("idem-9", T0 + timedelta(minutes=59)) == old
    assert store.get_idempotency("idem-9", T0 + timedelta(hours=2)) is None

    new = make_record("idem-9", second, created_at=T0 + timedelta(hours=2))
    store.create_ticket(make_ticket(second), [], new)

    assert store.get_idempotency("idem-9", T0 + timedelta(hours=2)) == new
    assert store.get_ticket(first) is not None
    assert store.get_ticket(second) is not None


def test_idempotency_record_expires_at_its_expiry_instant(store: TicketStore) -> None:
    """At ``expires_at`` itself the record is expired for reads and for creates alike."""
    first, second = number(11), number(12)
    expiry = T0 + timedelta(hours=1)
    store.create_ticket(make_ticket(first), [], make_record("idem-11", first, expires_at=expiry))

    assert store.get_idempotency("idem-11", expiry) is None

    new = make_record("idem-11", second, created_at=expiry)
    store.create_ticket(make_ticket(second), [], new)
    assert store.get_idempotency("idem-11", expiry) == new


def test_racing_creates_with_one_idempotency_key_let_exactly_one_win(
    store: TicketStore,
) -> None:
    racers = 20
    numbers = [number(100 + i) for i in range(racers)]
    barrier = threading.Barrier(racers)
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def submit(n: str) -> None:
        barrier.wait()
        try:
            store.create_ticket(make_ticket(n), [make_event(n, 1, T0)], make_record("idem-race", n))
            outcome = "created"
        except IdempotencyExistsError:
            outcome = "idempotency_exists"
        except Exception as e:  # recorded so the assertion shows it
            outcome = f"{type(e).__name__}: {e}"
        with lock:
            outcomes[n] = outcome

    threads = [threading.Thread(target=submit, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    winners = [n for n, outcome in outcomes.items() if outcome == "created"]
    assert len(outcomes) == racers
    assert sorted(outcomes.values()) == ["created"] + ["idempotency_exists"] * (racers - 1)
    stored = [n for n in numbers if store.get_ticket(n) is not None]
    assert stored == winners
    record = store.get_idempotency("idem-race", T0)
    assert record is not None
    assert record.number == winners[0]


def test_contact_ciphertext_is_stored_as_given(
    store: TicketStore, store_kind: str, tmp_path: Path
) -> None:
    n = number(13)
    ciphertext = "v1:local:3q2+7w==:AAECAwQFBgcICQ==:ünï"
    store.create_ticket(make_ticket(n, contact_ciphertext=ciphertext), [])

    if isinstance(store, DynamoTicketStore):
        raw = store.client.get_item(
            TableName=store.table_name,
            Key={"PK": {"S": keys.ticket_pk(n)}, "SK": {"S": keys.TICKET_SK}},
            ConsistentRead=True,
        )["Item"]
        assert raw["contact_ciphertext"] == {"S": ciphertext}
    else:
        assert store_kind == "sqlite"
        assert ciphertext in _sqlite_values(sqlite_path(tmp_path))
    view = store.get_ticket(n)
    assert view is not None
    assert view.ticket.contact_ciphertext == ciphertext


def _sqlite_values(path: Path) -> set[Any]:
    """Every stored value in the file: columns, and the values of JSON documents in them."""
    found: set[Any] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str | int | float | bytes):
            found.add(value)

    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608  # names from the file
                for value in row:
                    walk(value)
                    if isinstance(value, str) and value[:1] in "{[":
                        with contextlib.suppress(ValueError):
                            walk(json.loads(value))
    return found
