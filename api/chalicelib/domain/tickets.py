"""Tickets and their timeline events: the records every use case reads and writes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
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
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def next_deadline(self) -> datetime | None:
        """The earliest deadline still running, or None once the ticket has left the open states.

        The due index (DynamoDB GSI1, the SQLite ``tickets_due`` index) is keyed on this value.
        """
        if not self.is_open:
            return None
        return min(self.deadlines.first_response, self.deadlines.resolution)

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
