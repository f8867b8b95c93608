"""Rate-limit counters on SQLite (mixed into ``SqliteStore``).

One row per (client hash, action, window start) in ``rate_counters`` (migration in
``sqlite.py``). A bump is one upsert statement that returns the new count, atomic under
SQLite's single writer; the daily housekeeping deletes rows whose window has ended, which is
how long a client hash is kept. A submission's charge (``apply_charge``) is the same upsert
inside the ticket's own ``BEGIN IMMEDIATE`` transaction, rolled back with it when over the limit.

A bump waits at most ``BUSY_WAIT_MS`` for the write lock, not the store's usual 5 s: the limiter
fails open, so a locked database should cost the request it guards a moment, not a second wait
before the request's own write.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Protocol

from chalicelib.domain.rate_limits import RateCharge, RateCounter, check_nested
from chalicelib.errors import RateChargeRefusedError, StoreUnavailableError
from chalicelib.store import codec

MIGRATION = """
    CREATE TABLE rate_counters (
        client TEXT NOT NULL,
        action TEXT NOT NULL,
        window_start TEXT NOT NULL,
        count INTEGER NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (client, action, window_start)
    ) WITHOUT ROWID;
    CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);
"""

BUSY_WAIT_MS = 200

_BUMP = (
    "INSERT INTO rate_counters (client, action, window_start, count, expires_at) "
    "VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (client, action, window_start) DO UPDATE SET count = count + excluded.count "
    "RETURNING count"
)


def apply_charge(conn: sqlite3.Connection, charge: RateCharge) -> None:
    """Add the charge to its counter inside the caller's open write transaction; raise
    ``RateChargeRefusedError`` (the caller rolls back) when that takes it over the limit."""
    counter = charge.counter
    row = conn.execute(
        _BUMP,
        (
            counter.client,
            counter.action,
            codec.iso(counter.window_start),
            1,
            codec.iso(counter.expires_at),
        ),
    ).fetchall()[0]
    if int(row[0]) > charge.limit:
        raise RateChargeRefusedError(f"the {counter.action} counter is at its limit")


class _Host(Protocol):
    """What the mixin uses of ``SqliteStore``."""

    def _connect(self) -> sqlite3.Connection: ...

    def _count(self, *, requests: int = 0, items_read: int = 0) -> None: ...


class SqliteRateCounters:
    """The port's rate-counter operations for ``SqliteStore``."""

    def bump_rate_counter(self: _Host, counter: RateCounter, amount: int) -> int:
        conn = self._connect()
        try:
            usual = conn.execute("PRAGMA busy_timeout").fetchone()[0]
            conn.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")
            try:
                # Autocommit: the one statement is its own transaction. fetchall() steps it to
                # the end, so the write lock is released before returning.
                rows = conn.execute(
                    _BUMP,
                    (
                        counter.client,
                        counter.action,
                        codec.iso(counter.window_start),
                        amount,
                        codec.iso(counter.expires_at),
                    ),
                ).fetchall()
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(usual)}")
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot count the request: {e}") from e
        self._count(requests=1)
        return int(rows[0][0])

    def bump_keyed_counter(
        self: _Host, counter: RateCounter, amount: int, failures: RateCounter
    ) -> tuple[int, int]:
        """The upsert and the read of ``failures`` in one short write transaction."""
        check_nested(counter, failures)
        conn = self._connect()
        try:
            usual = conn.execute("PRAGMA busy_timeout").fetchone()[0]
            conn.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    count = conn.execute(
                        _BUMP,
                        (
                            counter.client,
                            counter.action,
                            codec.iso(counter.window_start),
                            amount,
                            codec.iso(counter.expires_at),
                        ),
                    ).fetchall()[0][0]
                    row = conn.execute(
                        "SELECT count FROM rate_counters "
                        "WHERE client = ? AND action = ? AND window_start = ?",
                        (failures.client, failures.action, codec.iso(failures.window_start)),
                    ).fetchone()
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(usual)}")
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot count the request: {e}") from e
        self._count(requests=1, items_read=0 if row is None else 1)
        return int(count), 0 if row is None else int(row[0])

    def read_rate_counter(self: _Host, counter: RateCounter) -> int:
        conn = self._connect()
        try:
            row = conn.execute(
                "SELECT count FROM rate_counters "
                "WHERE client = ? AND action = ? AND window_start = ?",
                (counter.client, counter.action, codec.iso(counter.window_start)),
            ).fetchone()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot read a rate counter: {e}") from e
        self._count(requests=1, items_read=0 if row is None else 1)
        return 0 if row is None else int(row[0])

    def purge_rate_counters(self: _Host, now: datetime) -> int:
        conn = self._connect()
        try:
            deleted = conn.execute(
                "DELETE FROM rate_counters WHERE expires_at <= ?", (codec.iso(now),)
            ).rowcount
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot purge rate counters: {e}") from e
        self._count(requests=1)
        return int(deleted)
