"""The storage port: what use cases ask of a ticket store, in the domain's words.

Every adapter (``sqlite.py``, ``dynamodb/store.py``) implements every operation natively and turns
its driver's errors into domain errors (``errors.py``). The contract suite in
``tests/contract`` runs the same tests against each adapter.

Example::

    store.create_ticket(ticket, [submitted_event], idempotency=record)
    view = store.get_ticket(ticket.number)          # TicketView: the ticket and its events
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from chalicelib.domain.rate_limits import RateCharge, RateCounter
from chalicelib.domain.rollups import CellDelta, RollupKey, RollupRow
from chalicelib.domain.staff import CannedResponse, StaffMember, TokenRecord
from chalicelib.domain.tickets import Event, Ticket


@dataclass(frozen=True)
class IdempotencyRecord:
    """What the first request with an ``Idempotency-Key`` produced.

    ``key_hash`` is a digest of the client's key (scoped to the route); ``request_hash`` a digest
    of the normalised request. ``response`` is the response body *without* secrets: the private key
    is re-derived on replay, never stored.
    """

    key_hash: str
    request_hash: str
    number: str
    response: dict[str, Any]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class TicketView:
    """A ticket with its timeline, oldest event first."""

    ticket: Ticket
    events: list[Event]


@dataclass(frozen=True)
class TicketChange:
    """A new state of a ticket, the version it replaces, the events it appends, and what the
    change does to the daily rollups (``domain.rollups.delta``; written in the same
    transaction)."""

    ticket: Ticket
    expected_version: int
    events: list[Event]
    rollups: Mapping[RollupKey, CellDelta] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueQuery:
    """Which tickets a staff queue shows. Empty ``statuses`` is not allowed: pass them all."""

    departments: tuple[str, ...]
    statuses: tuple[str, ...]
    priority: str | None = None
    assignee: str | None = None
    due_before: datetime | None = None


@dataclass(frozen=True)
class QueuePage:
    """One page of a queue in ``Ticket.queue_sort_key`` order; ``last_key`` is set when more
    tickets may follow (pass it back as ``after``)."""

    tickets: list[Ticket]
    last_key: str | None


class TicketStore(Protocol):
    """Use-case-level persistence for tickets."""

    def create_ticket(
        self,
        ticket: Ticket,
        events: list[Event],
        idempotency: IdempotencyRecord | None = None,
        rollups: Mapping[RollupKey, CellDelta] | None = None,
        charge: RateCharge | None = None,
    ) -> None:
        """Store a new ticket, its first events, (optionally) its idempotency record and its
        rollup increments atomically.

        Raises NumberTakenError when the number exists and IdempotencyExistsError when an
        unexpired record already holds the idempotency key; in both cases nothing is written.
        With a ``charge`` the same write adds 1 to the charge's rate counter (created at 0,
        expiring at the window's end), and raises RateChargeRefusedError, writing nothing, when
        the counter already holds ``charge.limit``. When several conditions fail, the
        idempotency record wins, then the number, then the charge: a retry of a stored
        submission is replayed (and not charged) even at the limit.
        """
        ...

    def get_ticket(self, number: str) -> TicketView | None:
        """The ticket and its events in one read, or None."""
        ...

    def get_idempotency(self, key_hash: str, now: datetime) -> IdempotencyRecord | None:
        """The unexpired record for ``key_hash``, or None."""
        ...

    def save_tickets(self, changes: Sequence[TicketChange]) -> None:
        """Apply every change atomically: each stored ticket must still be at its expected version.

        Each ``change.ticket.version`` must be ``change.expected_version + 1``. Raises
        StaleVersionError when any stored version differs and NotFoundError when a ticket does
        not exist; in both cases nothing is written. A merge saves both tickets in one call.
        The changes' rollup increments are written in the same transaction.
        """
        ...

    def append_events(self, number: str, events: list[Event]) -> None:
        """Append events (audit entries) without changing the ticket; NotFoundError if absent."""
        ...

    def list_queue(self, query: QueueQuery, after: str | None, limit: int) -> QueuePage:
        """Tickets matching ``query`` whose sort key is after ``after``, at most ``limit``."""
        ...

    def list_due(self, before: datetime, limit: int) -> list[Ticket]:
        """Tickets whose ``due_at`` is before ``before``, earliest first, at most ``limit``.

        Reads only what is due (an index on ``due_at``), never the whole store.
        """
        ...

    def read_rollups(self, first_day: date, last_day: date) -> list[RollupRow]:
        """The rollup rows of every day from ``first_day`` to ``last_day`` (inclusive).

        Reads one partition (DynamoDB) or row (SQLite) per day, never tickets. A cell may come
        back as several rows (shards): sum them with ``domain.rollups.merge_rows``.
        """
        ...

    def read_rollup_totals(self) -> list[RollupRow]:
        """The ``TOTAL`` rows: what is open and overdue now, per dimension value."""
        ...

    def list_board(self, month: str) -> list[Ticket]:
        """Tickets on the resolved-issue board for ``month`` (``yyyy-mm``), newest resolution
        first; served by the board index (``domain.publication.board_position``)."""
        ...

    def import_tickets(
        self, views: Sequence[TicketView], rollups: Mapping[RollupKey, CellDelta]
    ) -> None:
        """Bulk-load tickets with their events and the rollup increments they add (history for
        benchmarks and migrations, into numbers not yet used). One transaction on SQLite;
        batched writes on DynamoDB, where a failure part-way may leave part of the batch."""
        ...

    def put_staff(self, member: StaffMember) -> None:
        """Create or replace a staff member."""
        ...

    def get_staff(self, staff_id: str) -> StaffMember | None: ...

    def list_staff(self) -> list[StaffMember]: ...

    def put_token(self, token: TokenRecord) -> None:
        """Create or replace a token record (issue, revoke, last-used time)."""
        ...

    def get_token(self, token_hash: str) -> TokenRecord | None: ...

    def list_tokens(self, staff_id: str) -> list[TokenRecord]: ...

    def put_canned(self, canned: CannedResponse) -> None: ...

    def list_canned(self) -> list[CannedResponse]: ...

    def delete_canned(self, canned_id: str) -> bool:
        """Delete a canned response; False when it did not exist."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailableError when the store cannot be reached."""
        ...

    def list_submitted(
        self, start: datetime, end: datetime, after: str | None, limit: int
    ) -> QueuePage:
        """Tickets submitted from ``start`` to ``end`` (both included), newest first, at most
        ``limit``; ``after`` resumes after a page's ``last_key`` (``<iso time>#<number>``).

        Reads only the window (an index on the submission time; day partitions on DynamoDB),
        never the whole store. Serves Open311's ``GET requests``.
        """
        ...

    def bump_rate_counter(self, counter: RateCounter, amount: int) -> int:
        """Add ``amount`` to ``counter`` (created at 0 if absent) atomically, in one request,
        and return its new count. Concurrent bumps never lose an increment."""
        ...

    def read_rate_counter(self, counter: RateCounter) -> int:
        """The count of ``counter``; 0 when it does not exist."""
        ...

    def bump_keyed_counter(
        self, counter: RateCounter, amount: int, failures: RateCounter
    ) -> tuple[int, int]:
        """Add ``amount`` to ``counter`` atomically and return its new count together with the
        count of ``failures`` (the same client's key-failure counter, whose window contains
        ``counter``'s), in one request. A counter bumped this way is only ever bumped this way
        (DynamoDB keeps it inside the ``failures`` item); ``failures`` itself is bumped and read
        with the operations above. ValueError when the clients differ or the window is not
        inside ``failures``'."""
        ...

    def purge_rate_counters(self, now: datetime) -> int:
        """Delete the counters whose ``expires_at`` is at or before ``now``; return how many.

        DynamoDB deletes them itself (the table's TTL attribute) and returns 0."""
        ...
