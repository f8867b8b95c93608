"""Building one versioned change to a ticket: new state, timeline events, next due time, and
what the change does to the daily rollups (written by the store in the same transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import rollups
from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import Timers, next_due
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.store.port import TicketChange


class Change:
    """Accumulates edits and events for one ticket, then yields the ``TicketChange`` to save.

    Example::

        c = Change(ticket, now, actor="staff:ann", actor_label="agent (parks)")
        c.ticket = c.ticket.replace(status="acknowledged")
        c.event("status_changed", public=True, text="We are looking into it.")
        store.save_tickets([c.build(policy, timers)])
    """

    def __init__(self, ticket: Ticket, now: datetime, *, actor: str, actor_label: str) -> None:
        self.original = ticket
        self.ticket = ticket
        self.now = now
        self.actor = actor
        self.actor_label = actor_label
        self.events: list[Event] = []

    def event(
        self,
        kind: str,
        *,
        public: bool,
        text: str = "",
        data: dict[str, Any] | None = None,
        actor: str | None = None,
        actor_label: str | None = None,
    ) -> None:
        seq = self.original.event_seq + len(self.events) + 1
        self.events.append(
            Event(
                number=self.original.number,
                seq=seq,
                at=self.now,
                kind=kind,
                public=public,
                actor=actor or self.actor,
                actor_label=actor_label or self.actor_label,
                text=text,
                data=data or {},
            )
        )

    def build(self, policy: Policy, timers: Timers) -> TicketChange:
        ticket = self.ticket.replace(
            version=self.original.version + 1,
            updated_at=self.now,
            event_seq=self.original.event_seq + len(self.events),
        )
        ticket = ticket.replace(due_at=next_due(ticket, policy, timers))
        ticket = rollups.track(self.original, ticket, self.now)
        zone = policy.calendar.timezone
        return TicketChange(
            ticket,
            self.original.version,
            list(self.events),
            rollups.delta(self.original, ticket, zone),
        )
