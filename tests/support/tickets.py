"""Builders for tickets, events and idempotency records with every field exercised.

Fixed times (``T0``), never the clock, so stored and expected values compare exactly.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from chalicelib.domain.numbers import format_number
from chalicelib.domain.tickets import Deadlines, Event, Ticket
from chalicelib.store.port import IdempotencyRecord

T0 = datetime(2026, 11, 25, 19, 30, 41, 123456, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def number(i: int) -> str:
    """A well-formed ticket number, distinct for each ``i``."""
    # format_number keeps the top 45 of the 48 bits: shift i past the 3 dropped ones.
    return format_number((i << 3).to_bytes(6, "big"), "FB")


def make_ticket(n: str, **changes: Any) -> Ticket:
    """A ticket using every field (unicode, nested attributes); ``changes`` override fields."""
    ticket = Ticket(
        number=n,
        type="complaint",
        category="environment/street-lighting",
        subject="路灯坏了 — Straßenlaterne defekt 🚧",
        description='Line one\nline "two" with <b>markup</b> & emoji 💡\n\ttab',
        location="Hauptstraße 5, 8001 Zürich",
        channel="web",
        priority="P2",
        department="public-works",
        status="received",
        submitted_at=T0,
        updated_at=T0 + timedelta(microseconds=1),
        deadlines=Deadlines(
            first_response=(T0 + timedelta(days=1)).astimezone(CET),
            resolution=T0 + timedelta(days=10, seconds=7),
        ),
        key_hash="sha256:" + "ab" * 32,
        language="zh",
        consent_to_publish=True,
        contact_ciphertext="v1:kms:AQIDBAUGBwg=:c2VjcmV0",
        consent_to_contact=True,
        assignee="staff:42",
        version=1,
        due_at=T0 + timedelta(days=1),
        attributes={
            "tags": ["light", "安全"],
            "score": 3,
            "ratio": 0.25,
            "flag": False,
            "nothing": None,
            "nested": {"empty_list": [], "empty_map": {}, "deep": {"x": [1, "二", True]}},
            "empty_text": "",
        },
    )
    return ticket.replace(**changes)


def make_event(n: str, seq: int, at: datetime, **changes: Any) -> Event:
    """A public timeline event of ticket ``n``; ``changes`` override fields."""
    event = Event(
        number=n,
        seq=seq,
        at=at,
        kind="submitted",
        public=True,
        actor="submitter",
        actor_label="Submitter",
        text=f"event {seq}: ünïcödé 文字",
        data={"channel": "web", "n": seq, "list": [seq, None]},
    )
    return dataclasses.replace(event, **changes)


def make_record(
    key: str,
    n: str,
    created_at: datetime = T0,
    expires_at: datetime | None = None,
) -> IdempotencyRecord:
    """An idempotency record for ``key`` naming ticket ``n`` (24 hours unless ``expires_at``)."""
    return IdempotencyRecord(
        key_hash=key,
        request_hash="req-" + key,
        number=n,
        response={
            "number": n,
            "status": "received",
            "links": {"self": f"/v1/tickets/{n}"},
            "retries": 1,
            "score": 0.5,
            "replayed": False,
            "note": None,
            "message": "已收到 — received",
        },
        created_at=created_at,
        expires_at=expires_at or created_at + timedelta(hours=24),
    )
