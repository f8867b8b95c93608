"""The storage-port contract for rate-limit counters: every test runs on every adapter.

A bump adds atomically and returns the new count (no increment lost under concurrency); counters
of other clients, actions and windows are independent; a read returns 0 for an absent counter;
the purge deletes what has expired (SQLite) or leaves it to the table's TTL (DynamoDB, whose
items must carry that TTL attribute at the window's end).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from chalicelib.domain.rate_limits import RateCounter
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.schema import TTL_ATTRIBUTE
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.port import TicketStore
from chalicelib.store.retry import RetryingStore
from chalicelib.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
CLIENT = "0f" * 16


def counter(
    client: str = CLIENT, action: str = "lookup", start: datetime = T0, length: timedelta = MINUTE
) -> RateCounter:
    return RateCounter(client, action, start, start + length)


def test_a_bump_creates_the_counter_and_returns_the_running_count(store: TicketStore) -> None:
    c = counter()
    assert store.read_rate_counter(c) == 0
    assert store.bump_rate_counter(c, 1) == 1
    assert store.bump_rate_counter(c, 1) == 2
    assert store.bump_rate_counter(c, 5) == 7
    assert store.read_rate_counter(c) == 7


def test_counters_of_other_clients_actions_and_windows_are_independent(
    store: TicketStore,
) -> None:
    store.bump_rate_counter(counter(), 3)
    others = [
        counter(client="aa" * 16),
        counter(action="submit"),
        counter(start=T0 + MINUTE),
    ]
    for other in others:
        assert store.read_rate_counter(other) == 0
        assert store.bump_rate_counter(other, 1) == 1
    assert store.read_rate_counter(counter()) == 3


def test_concurrent_bumps_lose_no_increment(store: TicketStore) -> None:
    c = counter(action="submit")
    racers, each = 8, 5
    barrier = threading.Barrier(racers)
    seen: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            barrier.wait()
            for _ in range(each):
                value = store.bump_rate_counter(c, 1)
                with lock:
                    seen.append(value)
        except BaseException as e:  # reported below: a thread's error must fail the test
            errors.append(e)

    threads = [threading.Thread(target=bump) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert store.read_rate_counter(c) == racers * each
    # Every bump saw a distinct count: the increments were serialized, none overwritten.
    assert sorted(seen) == list(range(1, racers * each + 1))


def test_purge_deletes_expired_counters_only(store: TicketStore) -> None:
    old = counter(start=T0 - 2 * MINUTE)  # ended at T0 - 1 min
    current = counter(start=T0)  # ends at T0 + 1 min
    store.bump_rate_counter(old, 4)
    store.bump_rate_counter(current, 2)
    purged = store.purge_rate_counters(T0)
    inner = store.inner if isinstance(store, RetryingStore) else store
    if isinstance(inner, SqliteStore):
        assert purged == 1
        assert store.read_rate_counter(old) == 0
    else:
        assert isinstance(inner, DynamoTicketStore)
        assert purged == 0  # the table's TTL deletes it
        item = inner.client.get_item(
            TableName=inner.table_name,
            Key={
                k: {"S": v}
                for k, v in keys.rate_counter_key(old.client, old.action, old.window_start).items()
            },
        )["Item"]
        assert int(item[TTL_ATTRIBUTE]["N"]) == int(old.expires_at.timestamp())
    assert store.read_rate_counter(current) == 2
    assert store.purge_rate_counters(T0) == 0  # nothing more has expired


def test_the_retrying_wrapper_passes_counters_through(store: TicketStore) -> None:
    wrapped = RetryingStore(store)
    c = counter(action="message")
    assert wrapped.bump_rate_counter(c, 2) == 2
    assert wrapped.read_rate_counter(c) == 2
    assert store.read_rate_counter(c) == 2
