"""Plain-data encoding of tickets and events, shared by every adapter.

Times are stored as ISO 8601 strings in UTC with microseconds (``2026-11-25T19:30:41.000000+00:00``)
so that they sort as text in SQLite and in DynamoDB sort keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.tickets import Deadlines, Event, Ticket
from chalicelib.store.port import IdempotencyRecord


def iso(t: datetime) -> str:
    """Canonical sortable text for an aware datetime."""
    if t.tzinfo is None:
        raise ValueError("naive datetime")
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ticket_to_record(t: Ticket) -> dict[str, Any]:
    return {
        "number": t.number,
        "type": t.type,
        "category": t.category,
        "subject": t.subject,
        "description": t.description,
        "location": t.location,
        "channel": t.channel,
        "priority": t.priority,
        "department": t.department,
        "status": t.status,
        "submitted_at": iso(t.submitted_at),
        "updated_at": iso(t.updated_at),
        "deadline_first_response": iso(t.deadlines.first_response),
        "deadline_resolution": iso(t.deadlines.resolution),
        "key_hash": t.key_hash,
        "language": t.language,
        "consent_to_publish": t.consent_to_publish,
        "contact_ciphertext": t.contact_ciphertext,
        "consent_to_contact": t.consent_to_contact,
        "assignee": t.assignee,
        "version": t.version,
        "attributes": t.attributes,
    }


def ticket_from_record(r: dict[str, Any]) -> Ticket:
    return Ticket(
        number=r["number"],
        type=r["type"],
        category=r["category"],
        subject=r["subject"],
        description=r["description"],
        location=r.get("location"),
        channel=r["channel"],
        priority=r["priority"],
        department=r["department"],
        status=r["status"],
        submitted_at=parse_iso(r["submitted_at"]),
        updated_at=parse_iso(r["updated_at"]),
        deadlines=Deadlines(
            first_response=parse_iso(r["deadline_first_response"]),
            resolution=parse_iso(r["deadline_resolution"]),
        ),
        key_hash=r["key_hash"],
        language=r["language"],
        consent_to_publish=bool(r["consent_to_publish"]),
        contact_ciphertext=r.get("contact_ciphertext"),
        consent_to_contact=bool(r.get("consent_to_contact", False)),
        assignee=r.get("assignee"),
        version=int(r["version"]),
        attributes=dict(r.get("attributes") or {}),
    )


def event_to_record(e: Event) -> dict[str, Any]:
    return {
        "number": e.number,
        "seq": e.seq,
        "at": iso(e.at),
        "kind": e.kind,
        "public": e.public,
        "actor": e.actor,
        "actor_label": e.actor_label,
        "text": e.text,
        "data": e.data,
    }


def event_from_record(r: dict[str, Any]) -> Event:
    return Event(
        number=r["number"],
        seq=int(r["seq"]),
        at=parse_iso(r["at"]),
        kind=r["kind"],
        public=bool(r["public"]),
        actor=r["actor"],
        actor_label=r["actor_label"],
        text=r.get("text", ""),
        data=dict(r.get("data") or {}),
    )


def idempotency_to_record(i: IdempotencyRecord) -> dict[str, Any]:
    return {
        "key_hash": i.key_hash,
        "request_hash": i.request_hash,
        "number": i.number,
        "response": i.response,
        "created_at": iso(i.created_at),
        "expires_at": iso(i.expires_at),
    }


def idempotency_from_record(r: dict[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        key_hash=r["key_hash"],
        request_hash=r["request_hash"],
        number=r["number"],
        response=dict(r["response"]),
        created_at=parse_iso(r["created_at"]),
        expires_at=parse_iso(r["expires_at"]),
    )
