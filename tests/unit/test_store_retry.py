"""``RetryingStore``: backoff within a budget, and writes whose outcome was unknown are never
repeated into a duplicate or turned into a false conflict.

The wrapped store is a real ``SqliteStore`` behind ``Faults``, a fake that fails chosen
operations before (nothing written) or after (written, but the caller is told it failed, as
when DynamoDB commits and the answer times out) calling the real one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.rate_limits import RateCharge, RateCounter
from chalicelib.errors import (
    IdempotencyExistsError,
    NumberTakenError,
    RateChargeRefusedError,
    StaleVersionError,
    StoreUnavailableError,
)
from chalicelib.store.port import TicketChange
from chalicelib.store.retry import RetryingStore
from chalicelib.store.sqlite import SqliteStore
from tests.support.tickets import T0, make_event, make_record, make_ticket, number


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or ``advance``)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Faults:
    """Delegates to ``inner``; ``fail(op, n, after=False)`` makes the next ``n`` calls of ``op``
    raise StoreUnavailableError, before the real call or (``after``) once it has committed.
    ``slow`` seconds pass on the fake clock for every failing call (a timeout's cost)."""

    def __init__(self, inner: SqliteStore, time: FakeTime) -> None:
        self.inner = inner
        self.time = time
        self.plan: dict[str, list[bool]] = {}
        self.calls: dict[str, int] = {}
        self.slow = 0.0

    def fail(self, op: str, times: int, *, after: bool = False) -> None:
        self.plan.setdefault(op, []).extend([after] * times)

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.inner, name)
        if not callable(real):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            pending = self.plan.get(name)
            if pending:
                after = pending.pop(0)
                self.time.now += self.slow
                if after:
                    real(*args, **kwargs)
                raise StoreUnavailableError(f"injected: {name}", retry_after=3)
            return real(*args, **kwargs)

        return call


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def faults(tmp_path: Path, time: FakeTime) -> Iterator[Faults]:
    inner = SqliteStore(tmp_path / "retry.db")
    inner.migrate()
    yield Faults(inner, time)
    inner.close()


def retrying(faults: Faults, time: FakeTime, budget: float = 2.0, jitter: float = 1.0) -> Any:
    return RetryingStore(
        faults,  # type: ignore[arg-type]
        budget,
        base_delay=0.05,
        max_delay=0.8,
        clock=time.clock,
        sleep=time.sleep,
        random=lambda: jitter,
    )


def new_ticket(i: int = 1) -> Any:
    n = number(i)
    return make_ticket(n, key_hash=f"hash-{i}"), [make_event(n, 1, T0)]


def test_transient_failures_are_retried_with_exponential_backoff(faults, time):
    store = retrying(faults, time)
    faults.fail("get_ticket", 4)
    assert store.get_ticket(number(9)) is None
    assert faults.calls["get_ticket"] == 5
    assert time.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4])  # jitter 1.0: the ceilings
    assert store.retries == 4


def test_the_delay_never_exceeds_the_cap_and_jitter_spreads_it(faults, time):
    store = retrying(faults, time, budget=10.0, jitter=0.5)
    faults.fail("list_staff", 7)
    assert store.list_staff() == []
    assert time.sleeps == pytest.approx([0.025, 0.05, 0.1, 0.2, 0.4, 0.4, 0.4])


def test_when_the_budget_is_spent_the_error_reaches_the_caller(faults, time):
    store = retrying(faults, time, budget=1.0)
    faults.fail("get_staff", 100)
    with pytest.raises(StoreUnavailableError) as caught:
        store.get_staff("ann")
    assert caught.value.retry_after == 3  # the adapter's Retry-After survives
    assert sum(time.sleeps) <= 1.0
    assert 2 <= faults.calls["get_staff"] < 100


def test_an_attempt_that_alone_outlasts_the_budget_is_not_repeated(faults, time):
    faults.slow = 5.0  # e.g. SQLite's busy timeout, or botocore's own retries
    store = retrying(faults, time, budget=2.0)
    faults.fail("get_token", 1)
    with pytest.raises(StoreUnavailableError):
        store.get_token("x")
    assert faults.calls["get_token"] == 1
    assert time.sleeps == []


def test_a_zero_budget_never_retries(faults, time):
    store = retrying(faults, time, budget=0.0)
    faults.fail("list_canned", 1)
    with pytest.raises(StoreUnavailableError):
        store.list_canned()
    assert faults.calls["list_canned"] == 1


def test_create_retried_after_a_failure_before_the_write_stores_one_ticket(faults, time):
    store = retrying(faults, time)
    ticket, events = new_ticket()
    faults.fail("create_ticket", 2)
    store.create_ticket(ticket, events)
    assert faults.inner.get_ticket(ticket.number) is not None
    assert faults.calls["create_ticket"] == 3


@pytest.mark.parametrize("with_idempotency", [True, False])
def test_create_that_committed_but_reported_failure_is_one_ticket_and_a_success(
    faults, time, with_idempotency
):
    """The lost acknowledgement: the retry must neither fail (NumberTaken/IdempotencyExists
    leaking to the use case, which would draw another number: a second ticket) nor write
    twice."""
    store = retrying(faults, time)
    ticket, events = new_ticket()
    record = make_record("idem-1", ticket.number) if with_idempotency else None
    faults.fail("create_ticket", 1, after=True)
    store.create_ticket(ticket, events, record)  # returns normally: the ticket IS stored
    view = faults.inner.get_ticket(ticket.number)
    assert view is not None
    assert view.ticket.key_hash == ticket.key_hash
    assert [e.seq for e in view.events] == [1]
    assert faults.calls["create_ticket"] <= 2
    with faults.inner._write() as conn:
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


def test_create_after_botocore_retried_a_committed_write_is_a_success(faults, time):
    """botocore retries a timed-out TransactWriteItems itself; the second try then finds the
    ticket of the first: the adapter raises NumberTakenError, the wrapper sees it is ours."""
    store = retrying(faults, time)
    ticket, events = new_ticket()
    faults.inner.create_ticket(ticket, events)  # the first try, committed
    store.create_ticket(ticket, events)  # the retry: no error, no second ticket
    assert faults.calls["create_ticket"] == 1


def test_a_number_held_by_another_ticket_is_still_number_taken(faults, time):
    store = retrying(faults, time)
    ticket, events = new_ticket()
    faults.inner.create_ticket(ticket.replace(key_hash="someone-else"), events)
    with pytest.raises(NumberTakenError):
        store.create_ticket(ticket, events)


def test_an_idempotency_key_held_by_another_request_is_still_reported(faults, time):
    store = retrying(faults, time)
    first, first_events = new_ticket(1)
    second, second_events = new_ticket(2)
    faults.inner.create_ticket(first, first_events, make_record("idem", first.number))
    with pytest.raises(IdempotencyExistsError) as raised:
        store.create_ticket(second, second_events, make_record("idem", second.number))
    assert faults.inner.get_ticket(second.number) is None
    # The refusal named the holder, so the wrapper needed no read to know it was not ours.
    assert raised.value.holder is not None
    assert raised.value.holder.number == first.number
    assert "get_ticket" not in faults.calls


class HolderUnknown(Faults):
    """An adapter whose refusal does not say who holds the key (the wrapper must look)."""

    def create_ticket(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.inner.create_ticket(*args, **kwargs)
        except IdempotencyExistsError as e:
            raise IdempotencyExistsError(e.message) from e


def test_without_the_holder_the_wrapper_checks_whether_its_own_write_landed(faults, time):
    unknown = HolderUnknown(faults.inner, time)
    store = retrying(unknown, time)
    ticket, events = new_ticket(1)
    faults.inner.create_ticket(ticket, events, make_record("idem", ticket.number))
    store.create_ticket(ticket, events, make_record("idem", ticket.number))  # ours: a success
    assert unknown.calls["get_ticket"] == 1
    other, other_events = new_ticket(2)
    with pytest.raises(IdempotencyExistsError):
        store.create_ticket(other, other_events, make_record("idem", other.number))


def test_create_that_keeps_failing_stores_nothing_and_raises(faults, time):
    store = retrying(faults, time, budget=0.5)
    ticket, events = new_ticket()
    faults.fail("create_ticket", 100)
    with pytest.raises(StoreUnavailableError):
        store.create_ticket(ticket, events, make_record("idem", ticket.number))
    assert faults.inner.get_ticket(ticket.number) is None


def _change(store: Any, n: str, text: str) -> TicketChange:
    view = store.get_ticket(n)
    t = view.ticket
    later = T0 + timedelta(minutes=5)
    new = t.replace(version=t.version + 1, updated_at=later, status="acknowledged")
    event = make_event(n, t.event_seq + 1, later, kind="status_changed", text=text)
    return TicketChange(new, t.version, [event])


def test_save_that_committed_but_reported_failure_is_a_success_not_a_stale_version(faults, time):
    store = retrying(faults, time)
    ticket, events = new_ticket()
    faults.inner.create_ticket(ticket, events)
    change = _change(faults.inner, ticket.number, "on it")
    faults.fail("save_tickets", 1, after=True)
    store.save_tickets([change])
    view = faults.inner.get_ticket(ticket.number)
    assert view.ticket.version == ticket.version + 1
    assert len(view.events) == 2


def test_a_genuinely_stale_save_is_still_a_conflict(faults, time):
    store = retrying(faults, time)
    ticket, events = new_ticket()
    faults.inner.create_ticket(ticket, events)
    mine = _change(faults.inner, ticket.number, "mine")
    theirs = dataclasses.replace(
        _change(faults.inner, ticket.number, "theirs"),
        ticket=mine.ticket.replace(updated_at=T0 + timedelta(minutes=6)),
    )
    faults.inner.save_tickets([theirs])
    with pytest.raises(StaleVersionError):
        store.save_tickets([mine])


def test_append_events_that_committed_but_reported_failure_appends_once(faults, time):
    store = retrying(faults, time)
    ticket, events = new_ticket()
    faults.inner.create_ticket(ticket, events)
    audit = [make_event(ticket.number, 900_001, T0 + timedelta(minutes=1), public=False)]
    faults.fail("append_events", 1, after=True)
    store.append_events(ticket.number, audit)
    assert [e.seq for e in faults.inner.get_ticket(ticket.number).events] == [1, 900_001]


def test_imports_and_health_checks_are_not_retried(faults, time):
    store = retrying(faults, time)
    faults.fail("ping", 1)
    with pytest.raises(StoreUnavailableError):
        store.ping()
    faults.fail("import_tickets", 1)
    with pytest.raises(StoreUnavailableError):
        store.import_tickets([], {})
    assert faults.calls == {"ping": 1, "import_tickets": 1}


def test_adapter_extras_pass_through(faults, time):
    store = retrying(faults, time)
    assert store.path == faults.inner.path  # e.g. the CLI's backup reads the SQLite path
    with pytest.raises(ValueError, match="budget"):
        RetryingStore(faults, -1)  # type: ignore[arg-type]


# -- a rate charge rides in the create: charged once, refusals need no read ---------------------


def _charge(limit: int) -> RateCharge:
    return RateCharge(RateCounter("ab" * 16, "submit", T0, T0 + timedelta(hours=1)), limit)


@pytest.mark.parametrize("after", [False, True], ids=["failed-before", "committed-then-failed"])
def test_a_retried_create_with_a_charge_charges_once(faults, time, after):
    """The lost acknowledgement with a charge: even at the limit (1), the retry finds its own
    ticket (stored with the charge) and succeeds; the counter holds one charge."""
    store = retrying(faults, time)
    ticket, events = new_ticket()
    charge = _charge(limit=1)
    faults.fail("create_ticket", 1, after=after)
    store.create_ticket(ticket, events, None, None, charge)
    assert faults.inner.get_ticket(ticket.number) is not None
    assert faults.inner.read_rate_counter(charge.counter) == 1


def test_a_refused_charge_goes_to_the_caller_without_a_read(faults, time):
    store = retrying(faults, time)
    charge = _charge(limit=1)
    first, first_events = new_ticket(1)
    store.create_ticket(first, first_events, None, None, charge)
    second, second_events = new_ticket(2)
    with pytest.raises(RateChargeRefusedError):
        store.create_ticket(second, second_events, None, None, charge)
    assert faults.inner.get_ticket(second.number) is None
    assert "get_ticket" not in faults.calls
    assert faults.inner.read_rate_counter(charge.counter) == 1
