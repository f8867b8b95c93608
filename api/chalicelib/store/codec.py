"""Plain-data encoding of tickets and events, shared by every adapter.

Times are stored as ISO 8601 strings in UTC with microseconds (``2026-11-25T19:30:41.000000+00:00``)
so that they sort as text in SQLite and in DynamoDB sort keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.staff import CannedResponse, StaffMember, TokenRecord
from chalicelib.domain.tickets import Deadlines, Event, Ticket
from chalicelib.store.port import IdempotencyRecord


def iso(t: datetime) -> str:
    """Canonical sortable text for an aware datetime."""
    if t.tzinfo is None:
        raise ValueError("naive datetime")
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _opt_iso(t: datetime | None) -> str | None:
    return None if t is None else iso(t)


def _opt_parse(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


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
        "due_at": _opt_iso(t.due_at),
        "first_response_at": _opt_iso(t.first_response_at),
        "resolved_at": _opt_iso(t.resolved_at),
        "closed_at": _opt_iso(t.closed_at),
        "resolution": t.resolution,
        "reason": t.reason,
        "merged_into": t.merged_into,
        "public_summary": t.public_summary,
        "escalated": t.escalated,
        "reopen_count": t.reopen_count,
        "resolution_round": t.resolution_round,
        "rated_round": t.rated_round,
        "rating": t.rating,
        "paused_at": _opt_iso(t.paused_at),
        "resume_status": t.resume_status,
        "event_seq": t.event_seq,
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
        due_at=_opt_parse(r.get("due_at")),
        first_response_at=_opt_parse(r.get("first_response_at")),
        resolved_at=_opt_parse(r.get("resolved_at")),
        closed_at=_opt_parse(r.get("closed_at")),
        resolution=r.get("resolution"),
        reason=r.get("reason"),
        merged_into=r.get("merged_into"),
        public_summary=r.get("public_summary"),
        escalated=bool(r.get("escalated", False)),
        reopen_count=int(r.get("reopen_count", 0)),
        resolution_round=int(r.get("resolution_round", 0)),
        rated_round=int(r.get("rated_round", 0)),
        rating=None if r.get("rating") is None else int(r["rating"]),
        paused_at=_opt_parse(r.get("paused_at")),
        resume_status=r.get("resume_status"),
        event_seq=int(r.get("event_seq", 0)),
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


def staff_to_record(m: StaffMember) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "role": m.role,
        "departments": list(m.departments),
        "created_at": iso(m.created_at),
        "active": m.active,
    }


def staff_from_record(r: dict[str, Any]) -> StaffMember:
    return StaffMember(
        id=r["id"],
        name=r["name"],
        role=r["role"],
        departments=tuple(r["departments"]),
        created_at=parse_iso(r["created_at"]),
        active=bool(r["active"]),
    )


def token_to_record(t: TokenRecord) -> dict[str, Any]:
    return {
        "token_hash": t.token_hash,
        "staff_id": t.staff_id,
        "label": t.label,
        "created_at": iso(t.created_at),
        "expires_at": iso(t.expires_at),
        "revoked_at": _opt_iso(t.revoked_at),
        "last_used_at": _opt_iso(t.last_used_at),
    }


def token_from_record(r: dict[str, Any]) -> TokenRecord:
    return TokenRecord(
        token_hash=r["token_hash"],
        staff_id=r["staff_id"],
        label=r["label"],
        created_at=parse_iso(r["created_at"]),
        expires_at=parse_iso(r["expires_at"]),
        revoked_at=_opt_parse(r.get("revoked_at")),
        last_used_at=_opt_parse(r.get("last_used_at")),
    )


def canned_to_record(c: CannedResponse) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "text": c.text,
        "category": c.category,
        "created_at": iso(c.created_at),
        "translations": c.translations,
    }


def canned_from_record(r: dict[str, Any]) -> CannedResponse:
    return CannedResponse(
        id=r["id"],
        title=r["title"],
        text=r["text"],
        category=r.get("category"),
        created_at=parse_iso(r["created_at"]),
        translations={
            lang: {"title": str(t["title"]), "text": str(t["text"])}
            for lang, t in (r.get("translations") or {}).items()
        },
    )
