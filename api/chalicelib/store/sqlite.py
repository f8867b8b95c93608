"""The embedded SQLite adapter of the storage port.

One connection per thread (``chalice local`` serves each request on its own thread), WAL mode so
readers never block the writer, a busy timeout, and one ``BEGIN IMMEDIATE`` transaction per
write operation. The schema is versioned with ``PRAGMA user_version``; ``migrate()`` brings any
older file up to date, so a data folder survives upgrades.

Example::

    store = SqliteStore(Path(".local/clearloop.db"))
    store.migrate()
    store.create_ticket(ticket, events)
    view = store.get_ticket(ticket.number)
"""

from __future__ import annotations

import array
import base64
import json
import sqlite3
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from chalicelib.domain import rollups as rollup_cells
from chalicelib.domain.publication import board_position
from chalicelib.domain.rate_limits import RateCharge
from chalicelib.domain.rollups import (
    SAMPLES,
    TOTAL_DAY,
    CellDelta,
    RollupKey,
    RollupRow,
    counter_dict,
    counter_list,
)
from chalicelib.domain.staff import CannedResponse, StaffMember, TokenRecord
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.errors import (
    IdempotencyExistsError,
    NotFoundError,
    NumberTakenError,
    StaleVersionError,
    StoreUnavailableError,
)
from chalicelib.store import codec
from chalicelib.store.port import (
    IdempotencyRecord,
    QueuePage,
    QueueQuery,
    TicketChange,
    TicketView,
)
from chalicelib.store.sqlite_open311 import SqliteOpen311Mixin
from chalicelib.store.sqlite_rate_limits import MIGRATION as RATE_COUNTERS_MIGRATION
from chalicelib.store.sqlite_rate_limits import SqliteRateCounters, apply_charge

# Each entry upgrades the schema from version i to i + 1. Never edit a shipped entry: append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tickets (
        number TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        department TEXT NOT NULL,
        priority TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        next_deadline TEXT,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX tickets_due ON tickets (next_deadline) WHERE next_deadline IS NOT NULL;
    CREATE INDEX tickets_queue ON tickets (department, status, priority, next_deadline);
    CREATE TABLE events (
        number TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (number, seq)
    );
    CREATE TABLE idempotency (
        key_hash TEXT PRIMARY KEY,
        expires_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX idempotency_expiry ON idempotency (expires_at);
    """,
    # 2: staff, tokens, canned responses; queue order by the ticket's sort key.
    """
    ALTER TABLE tickets RENAME COLUMN next_deadline TO due_at;
    ALTER TABLE tickets ADD COLUMN assignee TEXT;
    ALTER TABLE tickets ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
    UPDATE tickets SET sort_key = COALESCE(due_at, '~' || updated_at) || '#' || number;
    DROP INDEX tickets_queue;
    CREATE INDEX tickets_queue ON tickets (department, status, sort_key);
    CREATE TABLE staff (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY,
        staff_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX tokens_staff ON tokens (staff_id, created_at);
    CREATE TABLE canned (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
    """,
    # 3: the resolved-issue board index and the daily rollups (one document per day).
    """
    ALTER TABLE tickets ADD COLUMN board_month TEXT;
    ALTER TABLE tickets ADD COLUMN board_sort TEXT;
    CREATE INDEX tickets_board ON tickets (board_month, board_sort)
        WHERE board_month IS NOT NULL;
    CREATE TABLE rollups (day TEXT PRIMARY KEY, doc TEXT NOT NULL);
    """,
    # 4: an event is identified by its time and seq, as on DynamoDB (``EVENT#<time>#<seq>``):
    # audit entries draw a random high seq, and two that draw the same one must both be kept.
    """
    CREATE TABLE events_by_time (
        number TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (number, at, seq)
    );
    INSERT INTO events_by_time (number, seq, at, doc) SELECT number, seq, at, doc FROM events;
    DROP TABLE events;
    ALTER TABLE events_by_time RENAME TO events;
    """,
    # 5: a day's duration samples split in two: the seconds in ``doc`` (all the publisher
    # reads) and, in the same order, their identities in ``ids`` (only changes read them). The
    # rollups of versions 3 and 4 (a development layout that never shipped) are dropped.
    """
    DROP TABLE rollups;
    CREATE TABLE rollups (
        day TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        ids TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 6: Open311 lists tickets by submission time (``sqlite_open311.py``).
    """
    CREATE INDEX tickets_submitted ON tickets (submitted_at, number);
    """,
    # 7: per-client rate-limit counters (``sqlite_rate_limits.py``).
    RATE_COUNTERS_MIGRATION,
)

_BUSY_TIMEOUT_MS = 5000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


_TICKET_COLUMNS = (
    "number, status, department, priority, submitted_at, updated_at, due_at, version, "
    "assignee, sort_key, board_month, board_sort, doc"
)


def _ticket_row(ticket: Ticket, record: dict[str, Any]) -> tuple[Any, ...]:
    board = board_position(ticket)
    return (
        ticket.number,
        ticket.status,
        ticket.department,
        ticket.priority,
        record["submitted_at"],
        record["updated_at"],
        record["due_at"],
        ticket.version,
        ticket.assignee,
        ticket.queue_sort_key,
        None if board is None else board[0],
        None if board is None else f"{codec.iso(board[1])}#{ticket.number}",
        _dumps(record),
    )


def _cell_name(key: RollupKey) -> str:
    return f"{key.dimension}#{key.value}"


def _apply_rollups(conn: sqlite3.Connection, change: Mapping[RollupKey, CellDelta]) -> None:
    """Add ``change`` to the day rows it touches (inside the caller's transaction, which holds
    SQLite's write lock, so the read-modify-write cannot race)."""
    if not change:
        return
    by_day: dict[str, dict[RollupKey, CellDelta]] = defaultdict(dict)
    for key, cell in change.items():
        by_day[key.day][key] = cell
    days = sorted(by_day)
    stored: dict[str, tuple[str, str]] = {}
    for start in range(0, len(days), 500):
        chunk = days[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT day, doc, ids FROM rollups WHERE day IN ({marks})"  # noqa: S608 - marks
        stored.update({day: (doc, ids) for day, doc, ids in conn.execute(sql, chunk)})
    for day in days:
        cells = _day_cells(day, *stored.get(day, (_EMPTY_DOC, "{}")))
        rollup_cells.apply(cells, by_day[day])
        if not cells:
            conn.execute("DELETE FROM rollups WHERE day = ?", (day,))
            continue
        names: list[str] = []
        packed = array.array("i")
        ids: dict[str, Any] = {}
        for key, held in cells.items():
            name = _cell_name(key)
            names.append(name)
            counts = counter_list(held.counts)
            packed.append(len(counts))
            packed.extend(counts)
            for metric in SAMPLES:
                seconds = held.samples.get(metric, {})
                packed.append(len(seconds))
                packed.extend(seconds.values())
            if held.samples:
                ids[name] = {m: list(items) for m, items in held.samples.items()}
        doc = {"cells": names, "data": _encode(packed)}
        conn.execute(
            "INSERT INTO rollups (day, doc, ids) VALUES (?, ?, ?) "
            "ON CONFLICT (day) DO UPDATE SET doc = excluded.doc, ids = excluded.ids",
            (day, _dumps(doc), _dumps(ids)),
        )


# A day's document: {"cells": ["<dimension>#<value>", ...], "data": <base64>}, where data holds
# 32-bit little-endian integers, for each cell in turn: the number of counters, the counters in
# COUNTERS order, then for each metric of SAMPLES the number of durations and the durations in
# seconds. The identities of the durations, in the same order, are in the ``ids`` column, which
# only changes read. The publisher reads a year of these every hour: one decode per day instead
# of parsing tens of thousands of JSON numbers.
_EMPTY_DOC = '{"cells":[],"data":""}'


def _encode(values: array.array[int]) -> str:
    if sys.byteorder != "little":
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _decode(text: str) -> array.array[int]:
    values = array.array("i")
    values.frombytes(base64.b64decode(text))
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _walk(day: str, doc_text: str) -> Iterator[tuple[str, RollupKey, Any, dict[str, Any]]]:
    """Each cell of a day's document: its name, key, counters and durations (array slices)."""
    doc = json.loads(doc_text)
    data = _decode(doc["data"])
    position = 0
    for name in doc["cells"]:
        dimension, value = name.split("#", 1)
        width = data[position]
        counts = data[position + 1 : position + 1 + width]
        position += 1 + width
        samples = {}
        for metric in SAMPLES:
            length = data[position]
            if length:
                samples[metric] = data[position + 1 : position + 1 + length]
            position += 1 + length
        yield name, RollupKey(day, dimension, value), counts, samples


def _day_cells(day: str, doc_text: str, ids_text: str) -> dict[RollupKey, rollup_cells.Cell]:
    """A day's cells with their samples' identities (for changing them)."""
    ids = json.loads(ids_text)
    cells = {}
    for name, key, counts, samples in _walk(day, doc_text):
        names = ids.get(name, {})
        held = {
            metric: dict(zip(names.get(metric, []), seconds, strict=True))
            for metric, seconds in samples.items()
        }
        cells[key] = rollup_cells.Cell(counter_dict(counts), held)
    return cells


def _rollup_rows(day: str, doc_text: str) -> list[RollupRow]:
    """The cells of one day's document, as the publisher reads them."""
    return [RollupRow(key, counts, samples) for _, key, counts, samples in _walk(day, doc_text)]


def _check_changes(changes: Sequence[TicketChange]) -> None:
    """Refuse a malformed save before writing anything (the same rules as DynamoDB's)."""
    seen: set[str] = set()
    for change in changes:
        number = change.ticket.number
        if change.ticket.version != change.expected_version + 1:
            raise ValueError("ticket.version must be expected_version + 1")
        if number in seen:
            raise ValueError(f"ticket {number} appears twice in one save")
        seen.add(number)
        for event in change.events:
            if event.number != number:
                raise ValueError(f"event of {event.number} given with ticket {number}")


def _insert_events(conn: sqlite3.Connection, events: list[Event]) -> None:
    conn.executemany(
        "INSERT INTO events (number, seq, at, doc) VALUES (?, ?, ?, ?)",
        [(e.number, e.seq, codec.iso(e.at), _dumps(codec.event_to_record(e))) for e in events],
    )


class SqliteStore(SqliteOpen311Mixin, SqliteRateCounters):
    """TicketStore on one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._conns: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._conns_lock = threading.Lock()
        self._counter_lock = threading.Lock()
        self.items_read = 0
        self.requests = 0

    def _count(self, *, requests: int = 0, items_read: int = 0) -> None:
        with self._counter_lock:
            self.requests += requests
            self.items_read += items_read

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Each thread uses only its own connection; check_same_thread is off so that
                # close() can release every thread's connection at shutdown.
                conn = sqlite3.connect(
                    self.path,
                    timeout=_BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
            except (sqlite3.Error, OSError) as e:
                raise StoreUnavailableError(f"cannot open the database: {e}") from e
            self._local.conn = conn
            with self._conns_lock:
                # chalice local serves each connection on a new thread: close the connections
                # of threads that have ended, or file descriptors pile up.
                live = []
                for owner, other in self._conns:
                    if owner.is_alive():
                        live.append((owner, other))
                    else:
                        other.close()
                live.append((threading.current_thread(), conn))
                self._conns = live
        if not self._migrated:
            self.migrate()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"database busy: {e}") from e
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            conn.execute("ROLLBACK")
            raise StoreUnavailableError(f"commit failed: {e}") from e

    def migrate(self) -> int:
        """Create or upgrade the schema; return the schema version now in the file."""
        with self._migrate_lock:
            if self._migrated:
                return len(MIGRATIONS)
            self._migrated = True  # set first: _connect below must not recurse into migrate
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    current = conn.execute("PRAGMA user_version").fetchone()[0]
                    if current > len(MIGRATIONS):
                        raise StoreUnavailableError(
                            f"database schema {current} is newer than this code "
                            f"({len(MIGRATIONS)}); upgrade Clearloop"
                        )
                    for version in range(current, len(MIGRATIONS)):
                        for statement in MIGRATIONS[version].split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        conn.execute(f"PRAGMA user_version = {version + 1}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                self._migrated = False
                raise StoreUnavailableError(f"cannot prepare the database: {e}") from e
            except BaseException:
                self._migrated = False
                raise
            return len(MIGRATIONS)

    def close(self) -> None:
        """Close every connection this store opened (call when no request is running)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for _, conn in conns:
            conn.close()
        self._local = threading.local()

    # -- operations --------------------------------------------------------------------------

    def create_ticket(
        self,
        ticket: Ticket,
        events: list[Event],
        idempotency: IdempotencyRecord | None = None,
        rollups: Mapping[RollupKey, CellDelta] | None = None,
        charge: RateCharge | None = None,
    ) -> None:
        """Insert the ticket, its events, the idempotency record, the rollup increments and the
        rate charge in one transaction (rolled back when the charge is over its limit)."""
        record = codec.ticket_to_record(ticket)
        try:
            with self._write() as conn:
                self._count(requests=1)
                if idempotency is not None:
                    row = conn.execute(
                        "SELECT expires_at, doc FROM idempotency WHERE key_hash = ?",
                        (idempotency.key_hash,),
                    ).fetchone()
                    if row is not None and row[0] > codec.iso(idempotency.created_at):
                        holder = codec.idempotency_from_record(json.loads(row[1]))
                        raise IdempotencyExistsError("idempotency key already used", holder)
                    conn.execute(
                        "INSERT OR REPLACE INTO idempotency (key_hash, expires_at, doc) "
                        "VALUES (?, ?, ?)",
                        (
                            idempotency.key_hash,
                            codec.iso(idempotency.expires_at),
                            _dumps(codec.idempotency_to_record(idempotency)),
                        ),
                    )
                exists = conn.execute(
                    "SELECT 1 FROM tickets WHERE number = ?", (ticket.number,)
                ).fetchone()
                if exists is not None:
                    raise NumberTakenError(f"ticket number {ticket.number} exists")
                if charge is not None:
                    apply_charge(conn, charge)
                conn.execute(
                    f"INSERT INTO tickets ({_TICKET_COLUMNS}) "  # noqa: S608 - constant
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _ticket_row(ticket, record),
                )
                _insert_events(conn, events)
                _apply_rollups(conn, rollups or {})
        except sqlite3.IntegrityError as e:
            raise NumberTakenError(f"ticket number {ticket.number} exists") from e
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot store the ticket: {e}") from e

    def get_ticket(self, number: str) -> TicketView | None:
        """The ticket and its events, oldest first, from one read transaction."""
        conn = self._connect()
        try:
            self._count(requests=1)
            conn.execute("BEGIN")
            try:
                row = conn.execute("SELECT doc FROM tickets WHERE number = ?", (number,)).fetchone()
                if row is None:
                    return None
                rows = conn.execute(
                    "SELECT doc FROM events WHERE number = ? ORDER BY at, seq", (number,)
                ).fetchall()
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot read the ticket: {e}") from e
        self._count(items_read=1 + len(rows))
        return TicketView(
            ticket=codec.ticket_from_record(json.loads(row[0])),
            events=[codec.event_from_record(json.loads(r[0])) for r in rows],
        )

    def get_idempotency(self, key_hash: str, now: datetime) -> IdempotencyRecord | None:
        """The unexpired record for ``key_hash``, or None."""
        conn = self._connect()
        try:
            self._count(requests=1)
            row = conn.execute(
                "SELECT doc FROM idempotency WHERE key_hash = ? AND expires_at > ?",
                (key_hash, codec.iso(now)),
            ).fetchone()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot read the idempotency record: {e}") from e
        if row is None:
            return None
        self._count(items_read=1)
        return codec.idempotency_from_record(json.loads(row[0]))

    def save_tickets(self, changes: Sequence[TicketChange]) -> None:
        """Compare-and-swap every ticket on its version, plus the events, in one transaction."""
        _check_changes(changes)
        if not changes:
            return
        try:
            with self._write() as conn:
                self._count(requests=1)
                for change in changes:
                    ticket = change.ticket
                    row = conn.execute(
                        "SELECT version FROM tickets WHERE number = ?", (ticket.number,)
                    ).fetchone()
                    if row is None:
                        raise NotFoundError(f"No ticket {ticket.number} exists.")
                    if row[0] != change.expected_version:
                        raise StaleVersionError(
                            f"Ticket {ticket.number} has changed (version {row[0]}, "
                            f"you sent {change.expected_version}); reload it and try again."
                        )
                    record = codec.ticket_to_record(ticket)
                    conn.execute(
                        "UPDATE tickets SET number = ?, status = ?, department = ?, "
                        "priority = ?, submitted_at = ?, updated_at = ?, due_at = ?, "
                        "version = ?, assignee = ?, sort_key = ?, board_month = ?, "
                        "board_sort = ?, doc = ? WHERE number = ?",
                        (*_ticket_row(ticket, record), ticket.number),
                    )
                    _insert_events(conn, change.events)
                _apply_rollups(conn, rollup_cells.combine(c.rollups for c in changes))
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot save the ticket: {e}") from e

    def append_events(self, number: str, events: list[Event]) -> None:
        """Append events to an existing ticket's timeline."""
        for event in events:
            if event.number != number:
                raise ValueError(f"event of {event.number} given for {number}")
        try:
            with self._write() as conn:
                self._count(requests=1)
                if (
                    conn.execute("SELECT 1 FROM tickets WHERE number = ?", (number,)).fetchone()
                    is None
                ):
                    raise NotFoundError(f"No ticket {number} exists.")
                _insert_events(conn, events)
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot append events: {e}") from e

    def list_queue(self, query: QueueQuery, after: str | None, limit: int) -> QueuePage:
        """Served by the (department, status, sort_key) index."""
        if not query.departments or not query.statuses:
            return QueuePage([], None)
        where = [
            f"department IN ({','.join('?' * len(query.departments))})",
            f"status IN ({','.join('?' * len(query.statuses))})",
        ]
        params: list[Any] = [*query.departments, *query.statuses]
        if query.priority is not None:
            where.append("priority = ?")
            params.append(query.priority)
        if query.assignee is not None:
            where.append("assignee = ?")
            params.append(query.assignee)
        if query.due_before is not None:
            where.append("due_at < ?")
            params.append(codec.iso(query.due_before))
        if after is not None:
            where.append("sort_key > ?")
            params.append(after)
        sql = (
            f"SELECT doc FROM tickets WHERE {' AND '.join(where)} "  # noqa: S608 - placeholders only
            "ORDER BY sort_key LIMIT ?"
        )
        rows = self._read(sql, (*params, limit + 1))
        tickets = [codec.ticket_from_record(json.loads(r[0])) for r in rows[:limit]]
        last = tickets[-1].queue_sort_key if len(rows) > limit and tickets else None
        return QueuePage(tickets, last)

    def list_due(self, before: datetime, limit: int) -> list[Ticket]:
        """Served by the partial index on ``due_at``."""
        rows = self._read(
            "SELECT doc FROM tickets WHERE due_at IS NOT NULL AND due_at < ? "
            "ORDER BY due_at LIMIT ?",
            (codec.iso(before), limit),
        )
        return [codec.ticket_from_record(json.loads(r[0])) for r in rows]

    def read_rollups(self, first_day: date, last_day: date) -> list[RollupRow]:
        """One row per day (the primary key's range); ``TOTAL`` sorts after every date."""
        rows = self._read(
            "SELECT day, doc FROM rollups WHERE day >= ? AND day <= ? ORDER BY day",
            (first_day.isoformat(), last_day.isoformat()),
        )
        return [row for day, doc in rows for row in _rollup_rows(day, doc)]

    def read_rollup_totals(self) -> list[RollupRow]:
        rows = self._read("SELECT day, doc FROM rollups WHERE day = ?", (TOTAL_DAY,))
        return [row for day, doc in rows for row in _rollup_rows(day, doc)]

    def list_board(self, month: str) -> list[Ticket]:
        """Served by the partial index on (board_month, board_sort)."""
        rows = self._read(
            "SELECT doc FROM tickets WHERE board_month = ? ORDER BY board_sort DESC", (month,)
        )
        return [codec.ticket_from_record(json.loads(r[0])) for r in rows]

    def import_tickets(
        self, views: Sequence[TicketView], rollups: Mapping[RollupKey, CellDelta]
    ) -> None:
        """Insert tickets, events and rollup increments in one transaction."""
        try:
            with self._write() as conn:
                self._count(requests=1)
                conn.executemany(
                    f"INSERT INTO tickets ({_TICKET_COLUMNS}) "  # noqa: S608 - constant
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [_ticket_row(v.ticket, codec.ticket_to_record(v.ticket)) for v in views],
                )
                _insert_events(conn, [e for v in views for e in v.events])
                _apply_rollups(conn, rollups)
        except sqlite3.IntegrityError as e:
            raise NumberTakenError(f"a ticket number in the batch exists: {e}") from e
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot import tickets: {e}") from e

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        conn = self._connect()
        try:
            rows = conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot read: {e}") from e
        self._count(requests=1, items_read=len(rows))
        return rows

    def _put(self, sql: str, params: tuple[Any, ...]) -> int:
        try:
            with self._write() as conn:
                self._count(requests=1)
                return conn.execute(sql, params).rowcount
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot write: {e}") from e

    def put_staff(self, member: StaffMember) -> None:
        self._put(
            "INSERT OR REPLACE INTO staff (id, doc) VALUES (?, ?)",
            (member.id, _dumps(codec.staff_to_record(member))),
        )

    def get_staff(self, staff_id: str) -> StaffMember | None:
        rows = self._read("SELECT doc FROM staff WHERE id = ?", (staff_id,))
        return codec.staff_from_record(json.loads(rows[0][0])) if rows else None

    def list_staff(self) -> list[StaffMember]:
        rows = self._read("SELECT doc FROM staff ORDER BY id", ())
        return [codec.staff_from_record(json.loads(r[0])) for r in rows]

    def put_token(self, token: TokenRecord) -> None:
        record = codec.token_to_record(token)
        self._put(
            "INSERT OR REPLACE INTO tokens (token_hash, staff_id, created_at, doc) "
            "VALUES (?, ?, ?, ?)",
            (token.token_hash, token.staff_id, record["created_at"], _dumps(record)),
        )

    def get_token(self, token_hash: str) -> TokenRecord | None:
        rows = self._read("SELECT doc FROM tokens WHERE token_hash = ?", (token_hash,))
        return codec.token_from_record(json.loads(rows[0][0])) if rows else None

    def list_tokens(self, staff_id: str) -> list[TokenRecord]:
        rows = self._read(
            "SELECT doc FROM tokens WHERE staff_id = ? ORDER BY created_at", (staff_id,)
        )
        return [codec.token_from_record(json.loads(r[0])) for r in rows]

    def put_canned(self, canned: CannedResponse) -> None:
        self._put(
            "INSERT OR REPLACE INTO canned (id, doc) VALUES (?, ?)",
            (canned.id, _dumps(codec.canned_to_record(canned))),
        )

    def list_canned(self) -> list[CannedResponse]:
        rows = self._read("SELECT doc FROM canned ORDER BY id", ())
        return [codec.canned_from_record(json.loads(r[0])) for r in rows]

    def delete_canned(self, canned_id: str) -> bool:
        return self._put("DELETE FROM canned WHERE id = ?", (canned_id,)) > 0

    def ping(self) -> None:
        """Raise StoreUnavailableError when the file cannot be read."""
        try:
            self._connect().execute("SELECT 1").fetchone()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"database unavailable: {e}") from e
