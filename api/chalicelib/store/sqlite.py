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

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.domain.tickets import Event, Ticket
from chalicelib.errors import IdempotencyExistsError, NumberTakenError, StoreUnavailableError
from chalicelib.store import codec
from chalicelib.store.port import IdempotencyRecord, TicketView

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
)

_BUSY_TIMEOUT_MS = 5000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class SqliteStore:
    """TicketStore on one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
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
                self._conns.append(conn)
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
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # -- operations --------------------------------------------------------------------------

    def create_ticket(
        self,
        ticket: Ticket,
        events: list[Event],
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Insert the ticket, its events and the idempotency record in one transaction."""
        record = codec.ticket_to_record(ticket)
        try:
            with self._write() as conn:
                self._count(requests=1)
                if idempotency is not None:
                    row = conn.execute(
                        "SELECT expires_at FROM idempotency WHERE key_hash = ?",
                        (idempotency.key_hash,),
                    ).fetchone()
                    if row is not None and row[0] > codec.iso(idempotency.created_at):
                        raise IdempotencyExistsError("idempotency key already used")
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
                conn.execute(
                    "INSERT INTO tickets (number, status, department, priority, submitted_at, "
                    "updated_at, next_deadline, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        ticket.number,
                        ticket.status,
                        ticket.department,
                        ticket.priority,
                        record["submitted_at"],
                        record["updated_at"],
                        codec.iso(ticket.next_deadline) if ticket.next_deadline else None,
                        ticket.version,
                        _dumps(record),
                    ),
                )
                conn.executemany(
                    "INSERT INTO events (number, seq, at, doc) VALUES (?, ?, ?, ?)",
                    [
                        (e.number, e.seq, codec.iso(e.at), _dumps(codec.event_to_record(e)))
                        for e in events
                    ],
                )
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

    def ping(self) -> None:
        """Raise StoreUnavailableError when the file cannot be read."""
        try:
            self._connect().execute("SELECT 1").fetchone()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"database unavailable: {e}") from e
