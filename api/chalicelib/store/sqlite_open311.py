"""SQLite side of the Open311 listing: tickets by the time they were submitted.

Served by the ``tickets_submitted`` index on ``(submitted_at, number)`` (migration 6): a window
reads only its own rows, newest first, never the whole table.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.store import codec
from chalicelib.store.port import QueuePage


def submitted_key(submitted_at: datetime, number: str) -> str:
    """The position of a ticket in the submission order (``QueuePage.last_key``)."""
    return f"{codec.iso(submitted_at)}#{number}"


class SqliteOpen311Mixin:
    """``list_submitted`` for ``SqliteStore`` (which provides ``_read``)."""

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        raise NotImplementedError

    def list_submitted(
        self, start: datetime, end: datetime, after: str | None, limit: int
    ) -> QueuePage:
        """Tickets submitted from ``start`` to ``end`` (both included), newest first, strictly
        after the position ``after`` when given, at most ``limit``."""
        sql = "SELECT doc FROM tickets WHERE submitted_at >= ? AND submitted_at <= ?"
        params: list[Any] = [codec.iso(start), codec.iso(end)]
        if after is not None:
            at, _, number = after.partition("#")
            sql += " AND (submitted_at < ? OR (submitted_at = ? AND number < ?))"
            params += [at, at, number]
        sql += " ORDER BY submitted_at DESC, number DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._read(sql, tuple(params))
        tickets = [codec.ticket_from_record(json.loads(r[0])) for r in rows[:limit]]
        last = None
        if len(rows) > limit and tickets:
            last = submitted_key(tickets[-1].submitted_at, tickets[-1].number)
        return QueuePage(tickets, last)
