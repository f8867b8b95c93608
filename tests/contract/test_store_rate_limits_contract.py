"""The storage-port contract for rate-limit counters: every test runs on every adapter.

A bump adds atomically and returns the new count (no increment lost under concurrency); counters
of other clients, actions and windows are independent; a read returns 0 for an absent counter;
the purge deletes what has expired (SQLite) or leaves it to the table's TTL (DynamoDB, whose
items must carry that TTL attribute at the window's end).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.config import Settings
from chalicelib.domain.rate_limits import RateCounter
from chalicelib.errors import StoreUnavailableError
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.rate_limits import make_counter_client
from chalicelib.store.dynamodb.schema import TTL_ATTRIBUTE
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.port import TicketStore
from chalicelib.store.retry import RetryingStore
from chalicelib.store.sqlite import SqliteStore
from tests.support.stores import boto3_session, dynamodb_client, make_store

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


# -- adapter specifics: a limiter that fails open must fail fast ---------------------------------


def test_sqlite_bump_gives_up_on_a_locked_database_quickly(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "locked.db")
    store.migrate()
    holder = sqlite3.connect(store.path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            store.bump_rate_counter(counter(), 1)
        assert time.monotonic() - started < 2.0  # not the store's usual 5 s busy wait
        holder.execute("ROLLBACK")
        assert store.bump_rate_counter(counter(), 1) == 1
        # The connection's usual busy wait is back for every other operation.
        assert store._connect().execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    finally:
        holder.close()
        store.close()


def test_dynamodb_counters_use_their_own_quick_client(tmp_path: Path) -> None:
    with make_store("dynamodb-moto", tmp_path) as made:
        assert isinstance(made, DynamoTicketStore)
        main = made.client
        quick = dynamodb_client(None)
        seen: list[str] = []
        quick.meta.events.register(
            "before-call.dynamodb", lambda model, **_: seen.append(model.name)
        )
        store = DynamoTicketStore(
            made.table_name, lambda: main, counter_client_factory=lambda: quick
        )
        assert store.bump_rate_counter(counter(), 2) == 2
        assert store.read_rate_counter(counter()) == 2
        assert seen == ["UpdateItem", "GetItem"]


def test_the_deployed_counter_client_tries_once_with_short_timeouts() -> None:
    settings = Settings.from_env({"CLEARLOOP_STORE": "dynamodb", "AWS_REGION": "eu-west-1"})
    client = make_counter_client(settings, session=boto3_session())
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.connect_timeout == 1
    assert config.read_timeout == 1
    assert client.meta.region_name == "eu-west-1"
    store = DynamoTicketStore.from_settings(settings)
    assert store._counter_factory is not None


# -- a counter stored with the client's key failures --------------------------------------------

HOUR = timedelta(hours=1)


def failures_counter(client: str = CLIENT) -> RateCounter:
    return counter(client=client, action="key_failure", length=HOUR)


def test_a_keyed_bump_counts_and_returns_the_key_failures(store: TicketStore) -> None:
    failures = failures_counter()
    lookups = counter()  # T0's minute, inside T0's hour
    assert store.bump_keyed_counter(lookups, 1, failures) == (1, 0)
    store.bump_rate_counter(failures, 1)
    store.bump_rate_counter(failures, 1)
    assert store.bump_keyed_counter(lookups, 1, failures) == (2, 2)
    # The failures are the stand-alone counter's, unchanged by the nested bumps.
    assert store.read_rate_counter(failures) == 2
    # Another minute of the same hour, another action, another client: counted apart.
    assert store.bump_keyed_counter(counter(start=T0 + MINUTE), 1, failures) == (1, 2)
    messages = counter(action="message", length=HOUR)
    assert store.bump_keyed_counter(messages, 3, failures) == (3, 2)
    assert store.bump_keyed_counter(lookups, 1, failures) == (3, 2)
    other = failures_counter("aa" * 16)
    assert store.bump_keyed_counter(counter(client="aa" * 16), 1, other) == (1, 0)


def test_a_keyed_bump_refuses_a_window_outside_the_failures(store: TicketStore) -> None:
    with pytest.raises(ValueError, match="inside"):
        store.bump_keyed_counter(counter(start=T0 + HOUR), 1, failures_counter())
    with pytest.raises(ValueError, match="same client"):
        store.bump_keyed_counter(counter(client="aa" * 16), 1, failures_counter())


def test_concurrent_keyed_bumps_lose_no_increment(store: TicketStore) -> None:
    failures, lookups = failures_counter(), counter()
    racers, each = 6, 5
    barrier = threading.Barrier(racers)
    seen: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            barrier.wait()
            for _ in range(each):
                value, _ = store.bump_keyed_counter(lookups, 1, failures)
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
    assert sorted(seen) == list(range(1, racers * each + 1))


def test_keyed_counters_expire_with_the_failures(store: TicketStore) -> None:
    failures = failures_counter()
    store.bump_keyed_counter(counter(), 1, failures)
    inner = store.inner if isinstance(store, RetryingStore) else store
    if isinstance(inner, SqliteStore):
        assert store.purge_rate_counters(T0 + HOUR) == 1  # the minute's row
    else:
        assert isinstance(inner, DynamoTicketStore)
        key = keys.rate_counter_key(CLIENT, "key_failure", T0)
        item = inner.client.get_item(
            TableName=inner.table_name, Key={k: {"S": v} for k, v in key.items()}
        )["Item"]
        assert int(item[TTL_ATTRIBUTE]["N"]) == int((T0 + HOUR).timestamp())
    assert RetryingStore(store).bump_keyed_counter(counter(), 1, failures)[1] == 0
