"""Public representations of tickets: the only shapes a public endpoint may return.

Nothing here reads contact details, internal events or staff identities: public views are built
from an allow-list of fields, so a field added to Ticket later stays private until listed here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.sla_state import public_sla
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.i18n.events import event_text


def public_time(t: datetime) -> str:
    """ISO 8601 with offset, to the second, in UTC."""
    return t.astimezone(UTC).isoformat(timespec="seconds")


def public_deadlines(ticket: Ticket) -> dict[str, str]:
    return {
        "first_response": public_time(ticket.deadlines.first_response),
        "resolution": public_time(ticket.deadlines.resolution),
    }


def public_sla_view(ticket: Ticket) -> dict[str, Any]:
    """Deadlines with their state (ok, due_soon, met, breached) and whether the clock is paused."""
    sla = public_sla(ticket)
    out: dict[str, Any] = {"paused": sla["paused"]}
    for kind in ("first_response", "resolution"):
        entry = sla[kind]
        out[kind] = {
            "deadline": public_time(entry["deadline"]),
            "state": entry["state"],
            "met_at": None if entry["met_at"] is None else public_time(entry["met_at"]),
            "breached_at": None
            if entry["breached_at"] is None
            else public_time(entry["breached_at"]),
        }
    return out


def public_event(event: Event, language: str = "en") -> dict[str, Any]:
    """A public timeline entry; the system's own words in ``language`` (i18n/events.py)."""
    return {
        "at": public_time(event.at),
        "kind": event.kind,
        "text": event_text(event, language),
        "actor": event.actor_label,
    }


def status_view(ticket: Ticket, events: list[Event] | None, language: str = "en") -> dict[str, Any]:
    """``GET /v1/tickets/{number}``: the status, plus the public timeline when ``events`` given
    (texts the system wrote in ``language``, the reader's)."""
    view: dict[str, Any] = {
        "number": ticket.number,
        "status": ticket.status,
        "type": ticket.type,
        "category": ticket.category,
        "language": ticket.language,
        "submitted_at": public_time(ticket.submitted_at),
        "updated_at": public_time(ticket.updated_at),
        "deadlines": public_deadlines(ticket),
        "sla": public_sla_view(ticket),
    }
    if ticket.status == "merged" and ticket.merged_into:
        view["merged_into"] = ticket.merged_into
    if events is not None:
        # Texts written for the submitter need the key: a number alone shows only the status
        # (the board publishes resolutions only after redaction and approval).
        if ticket.status in ("resolved", "closed") and ticket.resolution:
            view["resolution"] = ticket.resolution
        if ticket.status == "rejected" and ticket.reason:
            view["reason"] = ticket.reason
        view["timeline"] = [public_event(e, language) for e in events if e.public]
    return view
