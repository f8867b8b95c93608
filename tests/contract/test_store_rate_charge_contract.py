"""The storage-port contract for a rate charge written with a new ticket (every adapter).

``create_ticket(..., charge=RateCharge(counter, limit))`` adds 1 to the counter in the ticket's
own transaction while the counter is below ``limit``; at the limit it raises
``RateChargeRefusedError`` and writes nothing (no ticket, no events, no idempotency record, no
rollup increment, no charge). A held idempotency key wins over a full counter (the use case
replays it, uncharged), and a taken number too (``RetryingStore`` then checks its own landed
write). Concurrent submissions never take the counter past the limit.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.rate_limits import RateCharge, RateCounter
from chalicelib.domain.rollups import CellDelta, RollupKey
from chalicelib.errors import (
    IdempotencyExistsError,
    NumberTakenError,
    RateChargeRefusedError,
    StoreUnavailableError,
)
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.schema import TTL_ATTRIBUTE
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.port import TicketStore
from chalicelib.store.retry import RetryingStore
from tests.support.tickets import T0, make_event, make_record, make_ticket, number

HOUR = timedelta(hours=1)
WINDOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CLIENT = "ab" * 16
DAY = RollupKey("2026-03-02", "all", "all")


def charge(limit: int = 2, client: str = CLIENT) -> RateCharge:
    return RateCharge(RateCounter(client, "submit", WINDOW, WINDOW + HOUR), limit)


def create(store: TicketStore, i: int, c: RateCharge, idem: str | None = None) -> None:
    n = number(i)
    record = make_record(idem, n) if idem is not None else None
    store.create_ticket(make_ticket(n), [make_event(n, 1, T0)], record, charge=c)


def test_a_charge_below_the_limit_is_counted_with_the_ticket(store: TicketStore) -> None:
    c = charge(limit=2)
    create(store, 1, c)
    assert store.get_ticket(number(1)) is not None
    assert store.read_rate_counter(c.counter) == 1
    create(store, 2, c)
    assert store.read_rate_counter(c.counter) == 2


def test_at_the_limit_the_write_is_refused_and_nothing_is_written(store: TicketStore) -> None:
    c = charge(limit=2)
    create(store, 1, c)
    create(store, 2, c)
    n = number(3)
    with pytest.raises(RateChargeRefusedError):
        store.create_ticket(
            make_ticket(n),
            [make_event(n, 1, T0)],
            make_record("idem-refused", n),
            rollups={DAY: CellDelta({"received": 1})},
            charge=c,
        )
    assert store.get_ticket(n) is None
    assert store.get_idempotency(make_record("idem-refused", n).key_hash, T0) is None
    assert store.read_rollups(WINDOW.date(), WINDOW.date()) == []
    assert store.read_rate_counter(c.counter) == 2
    # Another client, or the same client in the next window, has its own counter.
    create(store, 4, charge(limit=2, client="cd" * 16))
    later = RateCharge(RateCounter(CLIENT, "submit", WINDOW + HOUR, WINDOW + 2 * HOUR), 2)
    create(store, 5, later)
    assert store.read_rate_counter(later.counter) == 1


def test_a_replay_at_the_limit_wins_and_is_not_charged(store: TicketStore) -> None:
    c = charge(limit=1)
    create(store, 1, c, idem="idem-replay")
    assert store.read_rate_counter(c.counter) == 1
    with pytest.raises(IdempotencyExistsError) as raised:
        create(store, 2, c, idem="idem-replay")  # the retry draws a new number
    assert raised.value.holder is not None
    assert raised.value.holder.number == number(1)
    assert store.get_ticket(number(2)) is None
    assert store.read_rate_counter(c.counter) == 1


def test_a_taken_number_at_the_limit_is_reported_as_taken(store: TicketStore) -> None:
    """So that a retry of a write that landed (botocore's own, or RetryingStore's) is
    recognised as this call's ticket, not refused as over the limit."""
    c = charge(limit=1)
    create(store, 1, c)
    with pytest.raises(NumberTakenError):
        create(store, 1, c)
    assert store.read_rate_counter(c.counter) == 1


def test_concurrent_submissions_never_exceed_the_limit(store: TicketStore) -> None:
    c = charge(limit=5)
    racers = 10
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()
    wrapped = RetryingStore(store)  # DynamoDB answers a contended item with a retryable conflict

    def submit(i: int) -> None:
        barrier.wait()
        try:
            create(wrapped, 100 + i, c)
            outcome = "stored"
        except RateChargeRefusedError:
            outcome = "refused"
        except StoreUnavailableError:
            outcome = "unavailable"
        except BaseException as e:  # reported below: a thread's error must fail the test
            outcome = repr(e)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [i for i in range(racers) if store.get_ticket(number(100 + i)) is not None]
    assert set(outcomes) <= {"stored", "refused", "unavailable"}, outcomes
    assert outcomes.count("stored") == len(stored)
    assert len(stored) <= 5
    if "unavailable" not in outcomes:  # every racer got an answer: the allowance is used up
        assert len(stored) == 5
    assert store.read_rate_counter(c.counter) == len(stored)


def test_the_retrying_wrapper_passes_the_charge_through(store: TicketStore) -> None:
    wrapped = RetryingStore(store)
    c = charge(limit=1)
    create(wrapped, 1, c)
    assert store.read_rate_counter(c.counter) == 1
    with pytest.raises(RateChargeRefusedError):
        create(wrapped, 2, c)
    assert store.get_ticket(number(2)) is None


def test_dynamodb_charges_carry_the_tables_ttl(store: TicketStore) -> None:
    inner = store.inner if isinstance(store, RetryingStore) else store
    c = charge()
    create(store, 1, c)
    if not isinstance(inner, DynamoTicketStore):
        return  # SQLite: the daily purge (test_store_rate_limits_contract)
    key = keys.rate_counter_key(CLIENT, "submit", WINDOW)
    item = inner.client.get_item(
        TableName=inner.table_name, Key={k: {"S": v} for k, v in key.items()}
    )["Item"]
    assert int(item[TTL_ATTRIBUTE]["N"]) == int((WINDOW + HOUR).timestamp())
