"""The storage port: what use cases ask of a ticket store, in the domain's words.

Every adapter (``sqlite.py``, ``dynamodb/store.py``) implements every operation natively and turns
its driver's errors into domain errors (``errors.py``). The contract suite in
``tests/contract`` runs the same tests against each adapter.

Example::

    store.create_ticket(ticket, [submitted_event], idempotency=record)
    view = store.get_ticket(ticket.number)          # TicketView: the ticket and its events
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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


class TicketStore(Protocol):
    """Use-case-level persistence for tickets."""

    def create_ticket(
        self,
        ticket: Ticket,
        events: list[Event],
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Store a new ticket, its first events and (optionally) its idempotency record atomically.

        Raises NumberTakenError when the number exists and IdempotencyExistsError when an
        unexpired record already holds the idempotency key; in both cases nothing is written.
        """
        ...

    def get_ticket(self, number: str) -> TicketView | None:
        """The ticket and its events in one read, or None."""
        ...

    def get_idempotency(self, key_hash: str, now: datetime) -> IdempotencyRecord | None:
        """The unexpired record for ``key_hash``, or None."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailableError when the store cannot be reached."""
        ...
