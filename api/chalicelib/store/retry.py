"""Retrying a store that is briefly unavailable, without ever acknowledging a lost write.

``RetryingStore`` wraps any ``TicketStore``. An operation that raises ``StoreUnavailableError``
(DynamoDB throttling or a 5xx after botocore's own retries, a timeout, SQLite's "database is
locked" after its busy timeout) is tried again after an exponential backoff with full jitter, as
long as the next attempt starts within ``budget_seconds`` of the first; after that the error goes
to the caller (the API answers 503 with ``Retry-After``).

A write that failed with an *ambiguous* outcome (a timeout after DynamoDB committed, a retry that
botocore made on its own) must not be repeated blindly:

- ``create_ticket``: before a retry, and whenever the store answers ``NumberTakenError`` or
  ``IdempotencyExistsError``, the wrapper reads the ticket back. If the stored ticket is the one
  this call wrote (same number and same private-key hash, which is random per attempt), the
  write landed and the call returns normally; otherwise the error stands (the use case draws
  another number or replays the idempotency record). So a retried submission never becomes two
  tickets, and a 201 is only ever returned for a ticket that is stored. A rate charge travels in
  the same write, so an attempt that landed also charged the counter once, and a repeat is
  never charged again: the adapters report a taken number (or a held idempotency key) before a
  full counter, so ``RateChargeRefusedError`` means this call's ticket is not stored (its number
  is free) and goes to the caller without a read.
- ``save_tickets`` and ``append_events``: before a retry, and on ``StaleVersionError``, the
  wrapper checks whether every ticket already carries this change (its version, update time
  and events); if so the call succeeded.
- Puts of staff, tokens and canned responses replace whole items and are retried as they are.
- ``import_tickets`` (bulk history loads; not atomic on DynamoDB) is never retried.
- Stand-alone rate-limit counters (``bump_rate_counter``, ``read_rate_counter``,
  ``bump_keyed_counter``) are tried
  once: a bump is not idempotent, and the limiter lets the request through when its store is
  unavailable, so waiting out a retry budget would only delay the request it guards. The daily
  purge is retried like any replace-style write.

Time and randomness are injectable, so the tests run without sleeping.

Example::

    store = RetryingStore(SqliteStore(path), budget_seconds=2.0)
    store.create_ticket(ticket, events, idempotency=record)   # retried on StoreUnavailableError
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from chalicelib.domain.rate_limits import RateCharge, RateCounter
from chalicelib.domain.rollups import CellDelta, RollupKey, RollupRow
from chalicelib.domain.staff import CannedResponse, StaffMember, TokenRecord
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.errors import (
    IdempotencyExistsError,
    NotFoundError,
    NumberTakenError,
    StaleVersionError,
    StoreUnavailableError,
)
from chalicelib.store.port import (
    IdempotencyRecord,
    QueuePage,
    QueueQuery,
    TicketChange,
    TicketStore,
    TicketView,
)

T = TypeVar("T")
log = logging.getLogger("clearloop.store")

DEFAULT_BUDGET_SECONDS = 2.0
DEFAULT_BASE_DELAY = 0.05
DEFAULT_MAX_DELAY = 0.8


class RetryingStore:
    """A ``TicketStore`` that retries ``StoreUnavailableError`` within a time budget.

    ``clock`` returns monotonic seconds, ``sleep`` waits, ``random`` returns a float in [0, 1)
    (the jitter); all three default to the real ones. ``attempts`` and ``retries`` count calls
    into the wrapped store and the retries among them (for tests and benchmarks).
    """

    def __init__(
        self,
        inner: TicketStore,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        *,
        base_delay: float = DEFAULT_BASE_DELAY,
        max_delay: float = DEFAULT_MAX_DELAY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if budget_seconds < 0 or base_delay <= 0 or max_delay < base_delay:
            raise ValueError("need budget_seconds >= 0 and 0 < base_delay <= max_delay")
        self.inner = inner
        self.budget_seconds = budget_seconds
        self._base = base_delay
        self._max = max_delay
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.retries = 0

    def __getattr__(self, name: str) -> Any:
        # Adapter extras (``close``, ``migrate``, ``path``, counters) pass straight through.
        if name == "inner":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- the retry loop -------------------------------------------------------------------------

    def _backoff(self, error: StoreUnavailableError, started: float, failures: int) -> None:
        """Sleep before the next attempt, or re-raise ``error`` when the budget is spent."""
        ceiling = min(self._max, self._base * 2 ** (failures - 1))
        delay = ceiling * self._random()  # "full jitter": spreads retries of many clients
        if self._clock() - started + delay > self.budget_seconds:
            log.warning("store unavailable after %d attempt(s): %s", failures, error.message)
            raise error
        self.retries += 1
        self._sleep(delay)

    def _call(self, operation: Callable[[], T]) -> T:
        """Reads and replace-style writes: repeating them is harmless."""
        started, failures = self._clock(), 0
        while True:
            try:
                return operation()
            except StoreUnavailableError as e:
                failures += 1
                self._backoff(e, started, failures)

    def _write(self, operation: Callable[[], None], landed: Callable[[], bool]) -> None:
        """A write whose outcome may be unknown after a failure: check before repeating it."""
        started, failures = self._clock(), 0
        while True:
            try:
                if failures and landed():
                    return
                operation()
                return
            except StoreUnavailableError as e:
                failures += 1
                self._backoff(e, started, failures)

    # -- writes that need reconciling -----------------------------------------------------------

    def create_ticket(
        self,
        ticket: Ticket,
        events: list[Event],
        idempotency: IdempotencyRecord | None = None,
        rollups: Mapping[RollupKey, CellDelta] | None = None,
        charge: RateCharge | None = None,
    ) -> None:
        def landed() -> bool:
            view = self.inner.get_ticket(ticket.number)
            return view is not None and _same_ticket(view.ticket, ticket)

        def attempt() -> None:
            try:
                if charge is not None:
                    self.inner.create_ticket(ticket, events, idempotency, rollups, charge)
                elif rollups is None:
                    self.inner.create_ticket(ticket, events, idempotency)
                else:
                    self.inner.create_ticket(ticket, events, idempotency, rollups)
            except IdempotencyExistsError as e:
                # Held by an earlier attempt of this very call (ours, or botocore's own retry
                # after a timeout)? Then the ticket is stored: report success, not a conflict.
                # The refusal usually names the holder, which answers without a read.
                if e.holder is not None:
                    if e.holder.number == ticket.number:
                        return
                    raise
                if landed():
                    return
                raise
            except NumberTakenError:
                if landed():
                    return
                raise

        self._write(attempt, landed)

    def save_tickets(self, changes: Sequence[TicketChange]) -> None:
        def landed() -> bool:
            return all(self._change_landed(c) for c in changes)

        def attempt() -> None:
            try:
                self.inner.save_tickets(changes)
            except (StaleVersionError, NotFoundError):
                if changes and landed():
                    return
                raise

        self._write(attempt, landed)

    def _change_landed(self, change: TicketChange) -> bool:
        view = self.inner.get_ticket(change.ticket.number)
        if view is None:
            return False
        stored, wanted = view.ticket, change.ticket
        if stored.version != wanted.version or stored.updated_at != wanted.updated_at:
            return False
        return _events_present(view, change.events)

    def append_events(self, number: str, events: list[Event]) -> None:
        def landed() -> bool:
            view = self.inner.get_ticket(number)
            return view is not None and _events_present(view, events)

        self._write(lambda: self.inner.append_events(number, events), landed)

    # -- everything else ------------------------------------------------------------------------

    def get_ticket(self, number: str) -> TicketView | None:
        return self._call(lambda: self.inner.get_ticket(number))

    def get_idempotency(self, key_hash: str, now: datetime) -> IdempotencyRecord | None:
        return self._call(lambda: self.inner.get_idempotency(key_hash, now))

    def list_queue(self, query: QueueQuery, after: str | None, limit: int) -> QueuePage:
        return self._call(lambda: self.inner.list_queue(query, after, limit))

    def list_due(self, before: datetime, limit: int) -> list[Ticket]:
        return self._call(lambda: self.inner.list_due(before, limit))

    def read_rollups(self, first_day: date, last_day: date) -> list[RollupRow]:
        return self._call(lambda: self.inner.read_rollups(first_day, last_day))

    def read_rollup_totals(self) -> list[RollupRow]:
        return self._call(self.inner.read_rollup_totals)

    def list_board(self, month: str) -> list[Ticket]:
        return self._call(lambda: self.inner.list_board(month))

    def list_submitted(
        self, start: datetime, end: datetime, after: str | None, limit: int
    ) -> QueuePage:
        return self._call(lambda: self.inner.list_submitted(start, end, after, limit))

    def import_tickets(
        self, views: Sequence[TicketView], rollups: Mapping[RollupKey, CellDelta]
    ) -> None:
        # Not retried: rollup increments are not idempotent and DynamoDB loads are not atomic.
        self.inner.import_tickets(views, rollups)

    def put_staff(self, member: StaffMember) -> None:
        self._call(lambda: self.inner.put_staff(member))

    def get_staff(self, staff_id: str) -> StaffMember | None:
        return self._call(lambda: self.inner.get_staff(staff_id))

    def list_staff(self) -> list[StaffMember]:
        return self._call(self.inner.list_staff)

    def put_token(self, token: TokenRecord) -> None:
        self._call(lambda: self.inner.put_token(token))

    def get_token(self, token_hash: str) -> TokenRecord | None:
        return self._call(lambda: self.inner.get_token(token_hash))

    def list_tokens(self, staff_id: str) -> list[TokenRecord]:
        return self._call(lambda: self.inner.list_tokens(staff_id))

    def put_canned(self, canned: CannedResponse) -> None:
        self._call(lambda: self.inner.put_canned(canned))

    def list_canned(self) -> list[CannedResponse]:
        return self._call(self.inner.list_canned)

    def delete_canned(self, canned_id: str) -> bool:
        # A retry after a delete that landed answers False (the caller's 404): harmless.
        return self._call(lambda: self.inner.delete_canned(canned_id))

    def ping(self) -> None:
        # Not retried: the health check reports the store as it is right now.
        self.inner.ping()

    def bump_rate_counter(self, counter: RateCounter, amount: int) -> int:
        # Tried once (see the module docstring): the limiter fails open instead.
        return self.inner.bump_rate_counter(counter, amount)

    def read_rate_counter(self, counter: RateCounter) -> int:
        return self.inner.read_rate_counter(counter)

    def bump_keyed_counter(
        self, counter: RateCounter, amount: int, failures: RateCounter
    ) -> tuple[int, int]:
        return self.inner.bump_keyed_counter(counter, amount, failures)

    def purge_rate_counters(self, now: datetime) -> int:
        return self._call(lambda: self.inner.purge_rate_counters(now))


def _same_ticket(stored: Ticket, wanted: Ticket) -> bool:
    """Whether ``stored`` is the ticket ``wanted`` (the key hash is random per attempt)."""
    return (
        stored.number == wanted.number
        and stored.key_hash == wanted.key_hash
        and stored.submitted_at == wanted.submitted_at
    )


def _event_id(event: Event) -> tuple[int, datetime, str, str]:
    return (event.seq, event.at, event.kind, event.text)


def _events_present(view: TicketView, events: Sequence[Event]) -> bool:
    stored = {_event_id(e) for e in view.events}
    return all(_event_id(e) in stored for e in events)
