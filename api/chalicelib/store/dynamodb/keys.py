"""Every DynamoDB key format of the single table, and the access patterns they serve.

Items (generic attribute names, ``ENTITY#id`` prefixes):

| item | PK | SK |
| --- | --- | --- |
| ticket | ``TICKET#<number>`` | ``TICKET`` |
| event | ``TICKET#<number>`` | ``EVENT#<iso time>#<seq, 6 digits>`` |
| idempotency | ``IDEM#<key hash>`` | ``IDEM`` |

Indexes are sparse: an item carries an index's keys only while it belongs in that view.

| index | PK | SK | carried by |
| --- | --- | --- | --- |
| GSI1 due | ``DUE#<shard>`` | ``<next deadline>#<number>`` | open tickets |
| GSI2 queue | ``QUEUE#<dept>#<status>`` | ``<priority>#<next deadline>#<number>`` | open tickets |
| GSI3 board | ``BOARD#<yyyy-mm>`` | ``<resolved at>#<number>`` | board items (none yet) |

Access patterns (pattern -> key condition -> index):

| pattern | key condition | index |
| --- | --- | --- |
| submit a ticket | one TransactWriteItems, see below | table |
| look up a ticket and its timeline | ``PK = TICKET#<number>`` (one consistent Query) | table |
| replay an idempotent request | ``PK = IDEM#<key hash> AND SK = IDEM`` (GetItem) | table |
| open tickets due before T | ``GSI1PK = DUE#<s> AND GSI1SK < <iso T>``, each s in 0..7 | GSI1 |
| a department's queue, one status | ``GSI2PK = QUEUE#<department>#<status>`` | GSI2 |
| ... of one priority | ``... AND begins_with(GSI2SK, <priority>#)`` | GSI2 |
| the resolved-issue board, a month | ``GSI3PK = BOARD#<yyyy-mm>`` | GSI3 |

Submitting puts the ticket and each event with ``attribute_not_exists(PK)`` and the idempotency
record with ``attribute_not_exists(PK) OR expires_at < :now`` in one transaction. Within a
ticket's partition the events sort before the ticket item (``EVENT#`` < ``TICKET``), oldest first.

Times in keys are :func:`chalicelib.store.codec.iso` text (UTC, microseconds), so they sort as
text. ``GSI1SK < <iso T>`` selects deadlines strictly before T: an equal deadline's key continues
with ``#`` and so sorts after the bare bound.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.domain.tickets import Ticket
from chalicelib.store.codec import iso

PK = "PK"
SK = "SK"
GSI1PK, GSI1SK = "GSI1PK", "GSI1SK"
GSI2PK, GSI2SK = "GSI2PK", "GSI2SK"
GSI3PK, GSI3SK = "GSI3PK", "GSI3SK"
INDEX_KEY_ATTRIBUTES = (GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK)

DUE_INDEX = "GSI1"
QUEUE_INDEX = "GSI2"
BOARD_INDEX = "GSI3"

# Spreads a busy day's due entries over partitions; the sweep queries every shard.
DUE_SHARDS = 8
SEQ_DIGITS = 6

TICKET_SK = "TICKET"
EVENT_SK_PREFIX = "EVENT#"
IDEMPOTENCY_SK = "IDEM"


def ticket_pk(number: str) -> str:
    """Partition of a ticket and its events."""
    return f"TICKET#{number}"


def ticket_key(number: str) -> dict[str, str]:
    """Primary key of a ticket item."""
    return {PK: ticket_pk(number), SK: TICKET_SK}


def event_sk(at: datetime, seq: int) -> str:
    """Sort key of an event: its time, then its sequence number (oldest first)."""
    if not 0 <= seq < 10**SEQ_DIGITS:
        raise ValueError(f"event seq out of range: {seq}")
    return f"{EVENT_SK_PREFIX}{iso(at)}#{seq:0{SEQ_DIGITS}d}"


def event_key(number: str, at: datetime, seq: int) -> dict[str, str]:
    """Primary key of an event item."""
    return {PK: ticket_pk(number), SK: event_sk(at, seq)}


def idempotency_key(key_hash: str) -> dict[str, str]:
    """Primary key of an idempotency record."""
    return {PK: f"IDEM#{key_hash}", SK: IDEMPOTENCY_SK}


def due_shard(number: str) -> int:
    """The due-index shard of a ticket: stable across processes (unlike ``hash()``)."""
    digest = hashlib.sha256(number.encode()).digest()
    return int.from_bytes(digest[:4], "big") % DUE_SHARDS


def due_pk(shard: int) -> str:
    """Partition of one due-index shard."""
    if not 0 <= shard < DUE_SHARDS:
        raise ValueError(f"due shard out of range: {shard}")
    return f"DUE#{shard}"


def due_sk(deadline: datetime, number: str) -> str:
    """Due-index sort key: the next deadline, then the number (unique, ordered by deadline)."""
    return f"{iso(deadline)}#{number}"


def due_before_bound(t: datetime) -> str:
    """Upper bound for ``GSI1SK < :bound``: deadlines strictly before ``t``."""
    return iso(t)


def queue_pk(department: str, status: str) -> str:
    """Partition of one department's queue in one status."""
    return f"QUEUE#{department}#{status}"


def queue_sk(priority: str, deadline: datetime, number: str) -> str:
    """Queue sort key: priority first (``P1`` sorts first), then the next deadline."""
    return f"{priority}#{iso(deadline)}#{number}"


def board_pk(month: str) -> str:
    """Partition of the resolved-issue board for one month (``yyyy-mm``)."""
    return f"BOARD#{month}"


def board_sk(resolved_at: datetime, number: str) -> str:
    """Board sort key: the resolution time, then the number."""
    return f"{iso(resolved_at)}#{number}"


def ticket_index_keys(ticket: Ticket) -> dict[str, str]:
    """The sparse index keys a ticket carries now: due and queue while open, otherwise none.

    Both index on ``Ticket.next_deadline``, which is None once the ticket has left the open
    states, so a closed ticket drops out of the sweep and the queues by losing its keys.
    """
    deadline = ticket.next_deadline
    if deadline is None:
        return {}
    return {
        GSI1PK: due_pk(due_shard(ticket.number)),
        GSI1SK: due_sk(deadline, ticket.number),
        GSI2PK: queue_pk(ticket.department, ticket.status),
        GSI2SK: queue_sk(ticket.priority, deadline, ticket.number),
    }
