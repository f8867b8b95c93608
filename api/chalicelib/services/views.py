"""Public representations of tickets: the only shapes a public endpoint may return.

Nothing here reads contact details, internal events or staff identities: public views are built
from an allow-list of fields, so a field added to Ticket later stays private until listed here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.tickets import Event, Ticket


def public_time(t: datetime) -> str:
    """ISO 8601 with offset, to the second, in UTC."""
    return t.astimezone(UTC).isoformat(timespec="seconds")


def public_deadlines(ticket: Ticket) -> dict[str, str]:
    return {
        "first_response": public_time(ticket.deadlines.first_response),
        "resolution": public_time(ticket.deadlines.resolution),
    }


def public_event(event: Event) -> dict[str, Any]:
    return {
        "at": public_time(event.at),
        "kind": event.kind,
        "text": event.text,
        "actor": event.actor_label,
    }


def status_view(ticket: Ticket, events: list[Event] | None) -> dict[str, Any]:
    """``GET /v1/tickets/{number}``: the status, plus the public timeline when ``events`` given."""
    view: dict[str, Any] = {
        "number": ticket.number,
        "status": ticket.status,
        "type": ticket.type,
        "category": ticket.category,
        "submitted_at": public_time(ticket.submitted_at),
        "updated_at": public_time(ticket.updated_at),
        "deadlines": public_deadlines(ticket),
    }
    if events is not None:
        view["timeline"] = [public_event(e) for e in events if e.public]
    return view
