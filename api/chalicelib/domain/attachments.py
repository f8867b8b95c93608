"""Photo attachments: the limits, the blob keys and the records kept on the ticket (pure rules).

A ticket's attachments live in ``ticket.attributes["attachments"]``, a list of records in the
order they were added::

    {"id": "k3v...", "content_type": "image/jpeg", "size": 183204, "width": 1600,
     "height": 1200, "thumb_type": "image/jpeg", "added_at": iso, "filename": "door.jpg"}

Only verified, cleaned images are recorded (``services/attachments.py``); the upload itself goes
to a private quarantine key first. Saving the list with the ticket's version makes the count
limit atomic: two uploads completing at once cannot both take the last place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.tickets import Ticket

# The types a photo may have, and the Pillow format name each must decode as.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_COUNT = 3
# Decompression-bomb limits, checked from the header before any pixel is decoded.
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000
THUMB_SIDE = 320
FILENAME_MAX = 120
ID_PATTERN = re.compile(r"^[a-z2-7]{26}$")
# Upload forms and signed links expire quickly: the issue allows at most 10 minutes.
UPLOAD_SECONDS = 600
VIEW_SECONDS = 300


@dataclass(frozen=True)
class Limits:
    """What an attachment may be: its types, its size in bytes, and how many a ticket holds."""

    types: tuple[str, ...] = tuple(FORMATS)
    max_bytes: int = DEFAULT_MAX_BYTES
    max_count: int = DEFAULT_MAX_COUNT


def quarantine_key(number: str, attachment_id: str) -> str:
    """Where the browser uploads the original (private; deleted after verification)."""
    return f"quarantine/{number}/{attachment_id}"


def image_key(number: str, attachment_id: str, content_type: str) -> str:
    """The cleaned copy (metadata removed)."""
    return f"attachments/{number}/{attachment_id}.{EXTENSIONS[content_type]}"


def thumb_key(number: str, attachment_id: str, content_type: str) -> str:
    """The cleaned thumbnail."""
    return f"attachments/{number}/{attachment_id}.thumb.{EXTENSIONS[content_type]}"


def ticket_prefix(number: str) -> str:
    """Every cleaned blob of one ticket (the retention purge deletes them all)."""
    return f"attachments/{number}/"


def attachments_of(ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's attachment records, oldest first."""
    return [dict(a) for a in ticket.attributes.get("attachments") or []]


def find(ticket: Ticket, attachment_id: str) -> dict[str, Any] | None:
    for record in attachments_of(ticket):
        if record.get("id") == attachment_id:
            return record
    return None


def keys_of(number: str, record: dict[str, Any]) -> list[str]:
    """The blob keys of one recorded attachment."""
    return [
        image_key(number, record["id"], record["content_type"]),
        thumb_key(number, record["id"], record["thumb_type"]),
    ]


def with_attachment(ticket: Ticket, record: dict[str, Any]) -> Ticket:
    """The ticket with one more attachment record."""
    return ticket.replace(
        attributes={**ticket.attributes, "attachments": [*attachments_of(ticket), record]}
    )


def without_attachments(ticket: Ticket, purged_at: datetime) -> Ticket:
    """The ticket after the retention purge: no records, the purge time remembered."""
    attributes = {k: v for k, v in ticket.attributes.items() if k != "attachments"}
    attributes["attachments_purged_at"] = purged_at.isoformat()
    return ticket.replace(attributes=attributes)


def clean_filename(name: object) -> str | None:
    """A display name for staff and the submitter: the last path part, printable, short."""
    if not isinstance(name, str):
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in base if c.isprintable()).strip()
    return text[:FILENAME_MAX] or None
