"""Publication on the resolved-issue board: the record a supervisor's approval leaves on a
ticket, which tickets may be approved, and where an approved ticket sits on the board.

The record lives in ``ticket.attributes["publication"]``::

    {"state": "approved" | "withdrawn",
     "summary": <redacted summary>, "resolution": <redacted resolution>,   # approved only
     "found": {"summary": [kinds...], "resolution": [kinds...]},          # what was redacted
     "round": <resolution round approved>, "month": "yyyy-mm",
     "board_id": <the item's public id>,
     "approved_at": iso, "approved_by": <staff id>, "withdrawn_at": iso | None}

Only the redacted texts are stored. A ticket is on the board while its record is approved, its
submitter consented, it is resolved or closed, and the approval is for its current resolution
round: a reopened ticket leaves the board by itself, and a new resolution needs a new approval.
The adapters index board tickets by ``board_position`` (GSI3 on DynamoDB, an indexed column on
SQLite), so publishing reads the board, never every ticket.

A board item's public URL uses ``board_id``, a random id drawn at the first approval and kept
for good (a withdrawn and re-approved item returns to the same URL), never the ticket number: the
number alone opens the public status view, which shows the resolution text as written, before
redaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.attachments import EXTENSIONS, find, image_key
from chalicelib.domain.rollups import day_of
from chalicelib.domain.tickets import Ticket

PUBLISHABLE_STATUSES = frozenset({"resolved", "closed"})
BOARD_ID = re.compile(r"^[0-9a-z]{16}$")
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"


def new_board_id(random_bytes: bytes) -> str:
    """A board item's public id: 80 random bits in lower-case Crockford base32 (16 symbols)."""
    if len(random_bytes) < 10:
        raise ValueError("a board id needs 10 random bytes")
    value = int.from_bytes(random_bytes[:10], "big")
    return "".join(_BASE32[(value >> (5 * i)) & 31] for i in reversed(range(16)))


def record_of(ticket: Ticket) -> dict[str, Any] | None:
    """The publication record, or None when the ticket was never approved."""
    record = ticket.attributes.get("publication")
    return dict(record) if isinstance(record, dict) else None


def publication_state(ticket: Ticket) -> dict[str, Any]:
    """What staff views show: the state, the approved (redacted) texts, whether it is on the
    board now."""
    record = record_of(ticket) or {}
    return {
        "state": record.get("state", "none"),
        "summary": record.get("summary"),
        "resolution": record.get("resolution"),
        "approved_at": record.get("approved_at"),
        "withdrawn_at": record.get("withdrawn_at"),
        "on_board": board_position(ticket) is not None,
        "board_id": record.get("board_id"),
        "photos": [p["id"] for p in record.get("photos") or []],
    }


def blockers(ticket: Ticket) -> list[str]:
    """Why ``ticket`` cannot be approved now (empty when it can)."""
    reasons = []
    if not ticket.consent_to_publish:
        reasons.append("The submitter did not consent to publication.")
    if ticket.status not in PUBLISHABLE_STATUSES:
        reasons.append(
            f"Only resolved or closed tickets can be published; this one is {ticket.status}."
        )
    elif ticket.resolved_at is None:
        reasons.append("The ticket has no resolution time.")
    return reasons


def month_of(t: datetime, zone: str) -> str:
    """``yyyy-mm`` of ``t`` in the reporting zone."""
    return day_of(t, zone)[:7]


def board_position(ticket: Ticket) -> tuple[str, datetime] | None:
    """``(month, resolved_at)`` while ``ticket`` belongs on the board, else None."""
    record = record_of(ticket)
    if record is None or record.get("state") != "approved":
        return None
    if blockers(ticket) or ticket.resolved_at is None:
        return None
    if record.get("round") != ticket.resolution_round or not record.get("month"):
        return None
    if not BOARD_ID.match(str(record.get("board_id") or "")):
        return None
    return str(record["month"]), ticket.resolved_at


@dataclass(frozen=True)
class BoardPhoto:
    """An approved photo of a board item: published next to the item's page as ``name``, from
    the cleaned copy at ``source_key`` in the private blob store (issue #12)."""

    name: str
    source_key: str
    content_type: str
    width: int
    height: int


def board_photos(ticket: Ticket, record: dict[str, Any]) -> tuple[BoardPhoto, ...]:
    """The photos a supervisor approved that the ticket still holds (the retention purge
    takes them off the board with the private copies)."""
    photos: list[BoardPhoto] = []
    for chosen in record.get("photos") or []:
        kept = find(ticket, str(chosen.get("id")))
        if kept is None:
            continue
        content_type = kept["content_type"]
        photos.append(
            BoardPhoto(
                name=f"photo-{len(photos) + 1}.{EXTENSIONS[content_type]}",
                source_key=image_key(ticket.number, kept["id"], content_type),
                content_type=content_type,
                width=int(kept["width"]),
                height=int(kept["height"]),
            )
        )
    return tuple(photos)


@dataclass(frozen=True)
class BoardEntry:
    """What the public board shows of one ticket: nothing but approved, redacted text and
    coarse facts (no ticket number, contact details, staff, internal notes or exact times)."""

    board_id: str
    category: str
    department: str
    month: str
    submitted_on: str
    resolved_on: str
    resolved_at: datetime
    seconds_to_resolve: int
    summary: str
    resolution: str
    rating: int | None
    photos: tuple[BoardPhoto, ...] = ()


def board_entry(ticket: Ticket, zone: str) -> BoardEntry | None:
    """The board entry of an approved ticket, or None when it is not on the board."""
    position = board_position(ticket)
    record = record_of(ticket)
    if position is None or record is None or ticket.resolved_at is None:
        return None
    month, resolved_at = position
    rated = ticket.rating if ticket.rated_round == ticket.resolution_round else None
    return BoardEntry(
        board_id=str(record["board_id"]),
        category=ticket.category,
        department=ticket.department,
        month=month,
        submitted_on=day_of(ticket.submitted_at, zone),
        resolved_on=day_of(resolved_at, zone),
        resolved_at=resolved_at,
        seconds_to_resolve=max(0, int((resolved_at - ticket.submitted_at).total_seconds())),
        summary=str(record.get("summary") or ""),
        resolution=str(record.get("resolution") or ""),
        rating=rated,
        photos=board_photos(ticket, record),
    )
