"""DynamoDB side of the Open311 listing: tickets by the time they were submitted (GSI4).

Every ticket carries ``GSI4PK = SUBMITTED#<UTC month>#<shard>`` and
``GSI4SK = <submitted at>#<number>`` (``keys.ticket_index_keys``). A window is read one month at a
time, newest first: each shard of the month with a ``BETWEEN`` key condition and a limit of what
the page still needs, merged by sort key, stopping as soon as the page is full. The reads are
bounded by the window (at most 4 months of ``SUBMITTED_SHARDS`` partitions for 90 days) and never
touch the rest of the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.store import codec
from chalicelib.store.dynamodb import keys
from chalicelib.store.port import QueuePage

# Sorts after every character of a ticket number: closes the upper bound of a key range.
_HIGH = "~"


class DynamoOpen311Mixin:
    """``list_submitted`` for ``DynamoTicketStore`` (which provides ``_query_all``)."""

    def _query_all(self, params: dict[str, Any], want: int | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def list_submitted(
        self, start: datetime, end: datetime, after: str | None, limit: int
    ) -> QueuePage:
        """Tickets submitted from ``start`` to ``end`` (both included), newest first, strictly
        after the position ``after`` when given, at most ``limit``."""
        low = codec.iso(start)
        high = f"{codec.iso(end)}#{_HIGH}"
        if after is not None:
            high = min(high, after)
        found: list[dict[str, Any]] = []
        month, first = _month(high), _month(low)
        while month >= first and len(found) <= limit:
            want = limit + 1 - len(found)
            merged: list[dict[str, Any]] = []
            for shard in range(keys.SUBMITTED_SHARDS):
                params = {
                    "IndexName": keys.SUBMITTED_INDEX,
                    "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
                    "ExpressionAttributeNames": {"#pk": keys.GSI4PK, "#sk": keys.GSI4SK},
                    "ExpressionAttributeValues": {
                        ":pk": {"S": f"SUBMITTED#{month[0]:04d}-{month[1]:02d}#{shard}"},
                        ":low": {"S": low},
                        ":high": {"S": high},
                    },
                    "ScanIndexForward": False,
                    "Limit": want + 1,
                }
                items = self._query_all(params, want=want + 1)
                merged.extend(i for i in items if after is None or str(i[keys.GSI4SK]) != after)
            merged.sort(key=lambda i: str(i[keys.GSI4SK]), reverse=True)
            found.extend(merged[:want])
            month = (month[0] - 1, 12) if month[1] == 1 else (month[0], month[1] - 1)
        tickets = [codec.ticket_from_record(item) for item in found[:limit]]
        last = None
        if len(found) > limit and tickets:
            last = keys.submitted_sk(tickets[-1].submitted_at, tickets[-1].number)
        return QueuePage(tickets, last)


def _month(key: str) -> tuple[int, int]:
    """The (year, month) a key or ISO time starts with."""
    return int(key[:4]), int(key[5:7])
