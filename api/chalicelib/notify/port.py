"""Notifications: what the portal tells departments and submitters, behind one interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Notification:
    """One message. ``dedupe_key`` identifies it (ticket, kind, deadline) across retries."""

    to: str
    subject: str
    body: str
    kind: str
    number: str
    dedupe_key: str
    language: str = "en"
    tags: dict[str, str] = field(default_factory=dict)


class Notifier(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver or queue the message; raise only when it could not be accepted."""
        ...
