"""Tickets and their timeline events: the records every use case reads and writes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TYPES = ("complaint", "suggestion", "inquiry", "praise", "report")
CHANNELS = ("web", "phone", "email", "letter", "box", "in_person", "open311")
PRIORITIES = ("P1", "P2", "P3")
STATUSES = (
    "received",
    "acknowledged",
    "awaiting_info",
    "in_progress",
    "resolved",
    "closed",
    "reopened",
    "rejected",
    "merged",
)
OPEN_STATUSES = frozenset({"received", "acknowledged", "awaiting_info", "in_progress", "reopened"})
LANGUAGES = ("en", "zh")


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Deadlines:
    """When the first response and the resolution are due."""

    first_response: datetime
    resolution: datetime


@dataclass(frozen=True)
class Ticket:
    """One piece of feedback. ``version`` increases by one with every stored change."""

    number: str
    type: str
    category: str
    subject: str
    description: str
    location: str | None
    channel: str
    priority: str
    department: str
    status: str
    submitted_at: datetime
    updated_at: datetime
    deadlines: Deadlines
    key_hash: str
    language: str
    consent_to_publish: bool
    contact_ciphertext: str | None = None
    consent_to_contact: bool = False
    assignee: str | None = None
    version: int = 1
    # When the sweep (SLA warnings and breaches, auto-close) next needs to look at this ticket;
    # None when nothing is pending. The due index is keyed on it.
    due_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    reason: str | None = None
    merged_into: str | None = None
    public_summary: str | None = None
    escalated: bool = False
    reopen_count: int = 0
    resolution_round: int = 0
    rated_round: int = 0
    rating: int | None = None
    paused_at: datetime | None = None
    resume_status: str | None = None
    event_seq: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def queue_sort_key(self) -> str:
        """Order of staff queues: the next due time first; tickets with nothing due last."""
        if self.due_at is not None:
            return f"{_iso(self.due_at)}#{self.number}"
        return f"~{_iso(self.updated_at)}#{self.number}"

    def replace(self, **changes: Any) -> Ticket:
        """A copy with ``changes`` applied (tickets are immutable values)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Event:
    """One entry of a ticket's append-only timeline.

    ``actor`` identifies who acted (``submitter``, ``system`` or ``staff:<id>``) and is never shown
    publicly; ``actor_label`` is the public face (a role or department name).
    """

    number: str
    seq: int
    at: datetime
    kind: str
    public: bool
    actor: str
    actor_label: str
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
