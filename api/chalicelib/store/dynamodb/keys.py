"""Every DynamoDB key format of the single table, and the access patterns they serve.

Items (generic attribute names, ``ENTITY#id`` prefixes):

| item | PK | SK |
| --- | --- | --- |
| ticket | ``TICKET#<number>`` | ``TICKET`` |
| event | ``TICKET#<number>`` | ``EVENT#<iso time>#<seq, 6 digits>`` |
| idempotency | ``IDEM#<key hash>`` | ``IDEM`` |
| staff member | ``STAFF#<id>`` | ``STAFF`` |
| staff token | ``TOKEN#<token hash>`` | ``TOKEN`` |
| canned response | ``CANNED#<id>`` | ``CANNED`` |
| daily rollup | ``STATS#<yyyy-mm-dd>`` | ``<dimension>#<value>#<shard>`` |
| current totals | ``STATS#TOTAL`` | ``<dimension>#<value>#<shard>`` |
| rate-limit counter | ``RATE#<client hash>#<action>#<iso window start>`` | ``RATE`` |

Indexes are sparse: an item carries an index's keys only while it belongs in that view.

| index | PK | SK | carried by |
| --- | --- | --- | --- |
| GSI1 due | ``DUE#<shard>`` | ``<due at>#<number>`` | tickets with something due |
| GSI2 queue | ``QUEUE#<dept>#<status>`` | ``<due at or ~updated at>#<number>`` | every ticket |
| GSI2 (overloaded) | ``STAFFLIST``, ``TOKENS#<id>``, ``CANNEDLIST`` | id or time | staff |
| GSI3 board | ``BOARD#<yyyy-mm>`` | ``<resolved at>#<number>`` | tickets on the board |
| GSI4 submitted | ``SUBMITTED#<yyyy-mm>#<shard>`` | ``<submitted at>#<number>`` | every ticket |

Access patterns (pattern -> key condition -> index):

| pattern | key condition | index |
| --- | --- | --- |
| submit a ticket | one TransactWriteItems, see below | table |
| look up a ticket and its timeline | ``PK = TICKET#<number>`` (one consistent Query) | table |
| replay an idempotent request | ``PK = IDEM#<key hash> AND SK = IDEM`` (GetItem) | table |
| due before T (sweep, auto-close) | ``GSI1PK = DUE#<s> AND GSI1SK < <iso T>``, each s | GSI1 |
| a staff queue page | ``GSI2PK = QUEUE#<d>#<status> AND GSI2SK > <cursor>``, merged | GSI2 |
| save a staff change | TransactWriteItems: ticket Put if ``version = :expected``, events | table |
| authenticate a token | GetItem ``TOKEN#<hash>`` | table |
| list staff / tokens / canned | ``GSI2PK = STAFFLIST`` / ``TOKENS#<id>`` / ``CANNEDLIST`` | GSI2 |
| the resolved-issue board, a month | ``GSI3PK = BOARD#<yyyy-mm>``, newest first | GSI3 |
| Open311 requests, a window | ``GSI4PK = SUBMITTED#<m>#<s> AND GSI4SK BETWEEN``, merged | GSI4 |
| rollups of one day (publisher) | ``PK = STATS#<yyyy-mm-dd>`` (all shards) | table |
| bump rollups | Update ``ADD`` counters, ``ADD``/``DELETE`` sample sets, in the ticket's | table |
| | transaction; counters on the ticket's shard, samples on their ticket's | |
| count a client's request | UpdateItem ``ADD count`` on ``RATE#...``, new count returned | table |
| read a client's key failures | GetItem ``RATE#<client>#key_failure#<window>`` | table |

Submitting puts the ticket and each event with ``attribute_not_exists(PK)`` and the idempotency
record with ``attribute_not_exists(PK) OR expires_at < :now`` in one transaction. Within a
ticket's partition the events sort before the ticket item (``EVENT#`` < ``TICKET``), oldest first.

Rollup cells carry a shard suffix (``ROLLUP_SHARDS``): a burst of submissions in one category
spreads its counter updates over several items, and the publisher sums the shards. A ticket's
counters always go to its own shard (``rollup_shard``), and each duration sample to the shard of
the ticket it names, so a restated contribution removes a sample from the item that holds it.

Times in keys are :func:`chalicelib.store.codec.iso` text (UTC, microseconds), so they sort as
text. ``GSI1SK < <iso T>`` selects deadlines strictly before T: an equal deadline's key continues
with ``#`` and so sorts after the bare bound.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.domain.publication import board_position
from chalicelib.domain.tickets import Ticket
from chalicelib.store.codec import iso

PK = "PK"
SK = "SK"
GSI1PK, GSI1SK = "GSI1PK", "GSI1SK"
GSI2PK, GSI2SK = "GSI2PK", "GSI2SK"
GSI3PK, GSI3SK = "GSI3PK", "GSI3SK"
GSI4PK, GSI4SK = "GSI4PK", "GSI4SK"
INDEX_KEY_ATTRIBUTES = (GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK)

DUE_INDEX = "GSI1"
QUEUE_INDEX = "GSI2"
BOARD_INDEX = "GSI3"
SUBMITTED_INDEX = "GSI4"

# Spreads a busy day's due entries over partitions; the sweep queries every shard.
DUE_SHARDS = 8
# Spreads a month's submissions over partitions (GSI4); the Open311 listing merges the shards.
SUBMITTED_SHARDS = 8
# Spreads one rollup cell's updates over items; the publisher sums them.
ROLLUP_SHARDS = 8
STATS_PREFIX = "STATS#"
SEQ_DIGITS = 6

TICKET_SK = "TICKET"
EVENT_SK_PREFIX = "EVENT#"
IDEMPOTENCY_SK = "IDEM"
STAFF_LIST_PK = "STAFFLIST"
CANNED_LIST_PK = "CANNEDLIST"


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


def board_pk(month: str) -> str:
    """Partition of the resolved-issue board for one month (``yyyy-mm``)."""
    return f"BOARD#{month}"


def board_sk(resolved_at: datetime, number: str) -> str:
    """Board sort key: the resolution time, then the number."""
    return f"{iso(resolved_at)}#{number}"


def ticket_index_keys(ticket: Ticket) -> dict[str, str]:
    """The index keys a ticket carries now.

    Due (GSI1) only while something is due (``Ticket.due_at``: SLA warnings and deadlines while
    open, the auto-close time while resolved), so the sweep reads nothing else. Queue (GSI2)
    always, in its department-and-status partition, ordered by ``Ticket.queue_sort_key``. Board
    (GSI3) only while the ticket is approved for the board (``board_position``).
    """
    index = {
        GSI2PK: queue_pk(ticket.department, ticket.status),
        GSI2SK: ticket.queue_sort_key,
    }
    if ticket.due_at is not None:
        index[GSI1PK] = due_pk(due_shard(ticket.number))
        index[GSI1SK] = due_sk(ticket.due_at, ticket.number)
    board = board_position(ticket)
    if board is not None:
        index[GSI3PK] = board_pk(board[0])
        index[GSI3SK] = board_sk(board[1], ticket.number)
    index[GSI4PK] = submitted_pk(ticket.submitted_at, submitted_shard(ticket.number))
    index[GSI4SK] = submitted_sk(ticket.submitted_at, ticket.number)
    return index


def submitted_shard(number: str) -> int:
    """The submission-index shard of a ticket: stable across processes."""
    digest = hashlib.sha256(b"submitted\x00" + number.encode()).digest()
    return int.from_bytes(digest[:4], "big") % SUBMITTED_SHARDS


def submitted_pk(submitted_at: datetime, shard: int) -> str:
    """Partition of one shard of the tickets submitted in one UTC month (Open311 listing,
    GSI4). Every ticket write also writes this index, so a burst of submissions (the scale
    target is 1,000 a second) is spread over ``SUBMITTED_SHARDS`` partitions, each far below a
    partition's 1,000 writes a second; a 90-day window is at most 4 months × the shards."""
    if not 0 <= shard < SUBMITTED_SHARDS:
        raise ValueError(f"submitted shard {shard} is not in 0..{SUBMITTED_SHARDS - 1}")
    return f"SUBMITTED#{iso(submitted_at)[:7]}#{shard}"


def submitted_sk(submitted_at: datetime, number: str) -> str:
    """Submission-order sort key: the time, then the number (``QueuePage.last_key``)."""
    return f"{iso(submitted_at)}#{number}"


def rollup_shard(number: str) -> int:
    """The rollup shard of a ticket's counters and samples: stable across processes."""
    digest = hashlib.sha256(b"rollup\x00" + number.encode()).digest()
    return int.from_bytes(digest[:4], "big") % ROLLUP_SHARDS


def stats_pk(day: str) -> str:
    """Partition of one day's rollup cells (``yyyy-mm-dd``, or ``TOTAL``)."""
    return f"{STATS_PREFIX}{day}"


def stats_sk(dimension: str, value: str, shard: int) -> str:
    """One shard of one rollup cell."""
    if not 0 <= shard < ROLLUP_SHARDS:
        raise ValueError(f"rollup shard out of range: {shard}")
    return f"{dimension}#{value}#{shard}"


def stats_key(day: str, dimension: str, value: str, shard: int) -> dict[str, str]:
    """Primary key of one shard of a rollup cell."""
    return {PK: stats_pk(day), SK: stats_sk(dimension, value, shard)}


def staff_key(staff_id: str) -> dict[str, str]:
    """Primary key of a staff member."""
    return {PK: f"STAFF#{staff_id}", SK: "STAFF"}


def staff_list_keys(staff_id: str) -> dict[str, str]:
    """GSI2 keys that list every staff member (index overloading: one small partition)."""
    return {GSI2PK: STAFF_LIST_PK, GSI2SK: staff_id}


def token_key(token_hash: str) -> dict[str, str]:
    """Primary key of a staff token (looked up by the hash of the presented token)."""
    return {PK: f"TOKEN#{token_hash}", SK: "TOKEN"}


def token_list_keys(staff_id: str, created_at: datetime, token_hash: str) -> dict[str, str]:
    """GSI2 keys that list one member's tokens, oldest first."""
    return {GSI2PK: f"TOKENS#{staff_id}", GSI2SK: f"{iso(created_at)}#{token_hash}"}


def canned_key(canned_id: str) -> dict[str, str]:
    """Primary key of a canned response."""
    return {PK: f"CANNED#{canned_id}", SK: "CANNED"}


def canned_list_keys(canned_id: str) -> dict[str, str]:
    """GSI2 keys that list every canned response."""
    return {GSI2PK: CANNED_LIST_PK, GSI2SK: canned_id}


def rate_counter_key(client: str, action: str, window_start: datetime) -> dict[str, str]:
    """Primary key of one client's counter for one action and window (expires by TTL)."""
    return {PK: f"RATE#{client}#{action}#{iso(window_start)}", SK: "RATE"}
