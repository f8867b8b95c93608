"""The DynamoDB adapter of the storage port: conditional writes, transactions, one-query reads.

Only this package calls boto3 for data. Items are written through the low-level client (typed
attribute values, no ``Decimal`` leaking into the domain); key formats come from ``keys.py`` and
the table definition from ``schema.py``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from chalicelib.domain import rollups as rollup_cells
from chalicelib.domain.rate_limits import RateCharge
from chalicelib.domain.rollups import (
    COUNTERS,
    SAMPLES,
    TOTAL_DAY,
    CellDelta,
    RollupKey,
    RollupRow,
    sample_number,
)
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.errors import (
    IdempotencyExistsError,
    NotFoundError,
    NumberTakenError,
    RateChargeRefusedError,
    StaleVersionError,
    StoreUnavailableError,
)
from chalicelib.lazy import Lazy
from chalicelib.store import codec
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.items import (
    event_item,
    from_item,
    idempotency_item,
    ticket_item,
    to_item,
)
from chalicelib.store.dynamodb.open311 import DynamoOpen311Mixin
from chalicelib.store.dynamodb.rate_limits import (
    DynamoRateCounters,
    charge_update,
    make_counter_client,
)
from chalicelib.store.dynamodb.staff import DynamoStaffMixin
from chalicelib.store.port import (
    IdempotencyRecord,
    QueuePage,
    QueueQuery,
    TicketChange,
    TicketView,
)

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from chalicelib.config import Settings

# Error codes DynamoDB uses for "try again later"; everything else is a bug or a misconfiguration
# and propagates as the ClientError it is.
_TRANSIENT_CODES: Final = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionConflictException",
    }
)
# Per-item reasons in a cancelled transaction that mean "try again later".
_TRANSIENT_REASONS: Final = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
# DynamoDB cancels concurrent transactions on the same item with TransactionConflict; a retry
# settles the race (the loser then fails its condition). botocore does not retry these.
_CONFLICT_ATTEMPTS: Final = 4
_CONFLICT_BACKOFF_SECONDS: Final = 0.02
_MAX_TRANSACTION_ITEMS: Final = 100
# Attributes of a rollup item that are not counters or samples.
_ROLLUP_FIELDS: Final = frozenset(
    {keys.PK, keys.SK, "entity", "day", "dimension", "value", *keys.INDEX_KEY_ATTRIBUTES}
)
# Read by ping(): no item is stored under this key, so the read costs the minimum.
_PING_KEY: Final = {keys.PK: {"S": "PING"}, keys.SK: {"S": "PING"}}


def make_client(settings: Settings, *, session: Session | None = None) -> DynamoDBClient:
    """A low-level DynamoDB client with short timeouts and botocore's standard retries.

    ``settings.dynamodb_endpoint`` points it at moto's server or DynamoDB Local instead of AWS.
    ``session`` lets callers that build many clients (tests) share one boto3 session, which
    loads the service model once; by default each client gets a session of its own.
    """
    # Imported here: boto3 costs ~170 ms to import, paid only when a client is built.
    import boto3
    from botocore.config import Config

    # botocore reads "max_attempts" as retries after the first try; three tries in all keep the
    # worst case (3 x (2 s connect + 5 s read) plus backoff) inside API Gateway's 29 s.
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
    )
    return (session or boto3.session.Session()).client(
        "dynamodb",
        region_name=settings.region,
        endpoint_url=settings.dynamodb_endpoint,
        config=config,
    )


class DynamoTicketStore(DynamoOpen311Mixin, DynamoRateCounters, DynamoStaffMixin):
    """The ticket store on one DynamoDB table (see ``keys.py`` for every item and index).

    ``client_factory`` builds the low-level boto3 ``dynamodb`` client on first use, so importing
    or constructing the store touches no network and costs no boto3 import. The store is safe to
    share between threads.

    - A submission is one ``TransactWriteItems``: the ticket and its events (each only if absent)
      and the idempotency record (only if absent or expired), all or nothing.
    - A lookup is one strongly consistent ``Query`` on the ticket's partition.
    - Driver errors become domain errors: throttling, 5xx, timeouts and unreachable endpoints
      raise ``StoreUnavailableError``; other ``ClientError``\\ s (a missing table, a malformed
      request) propagate unchanged because retrying cannot fix them.

    ``items_read`` and ``requests`` count the items DynamoDB read and the requests made, for
    benchmarks and cost tests.

    Example::

        store = DynamoTicketStore("clearloop", lambda: make_client(settings))
        store.create_ticket(ticket, [submitted_event], idempotency=record)
        view = store.get_ticket(ticket.number)   # TicketView(ticket, events), or None
        assert store.requests == 2
    """

    def __init__(
        self,
        table_name: str,
        client_factory: Callable[[], DynamoDBClient],
        *,
        counter_client_factory: Callable[[], DynamoDBClient] | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = Lazy(client_factory)
        self._lock = threading.Lock()  # the request counters
        self.items_read = 0
        self.requests = 0
        # Rate-limit counters (``rate_limits.py``): a client that gives up quickly; by default
        # the main one.
        self._counter_factory = counter_client_factory
        self._counter_cache: DynamoDBClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoTicketStore:
        """A store on ``settings.table_name`` whose clients :func:`make_client` and
        :func:`make_counter_client` build lazily."""
        return cls(
            settings.table_name,
            lambda: make_client(settings),
            counter_client_factory=lambda: make_counter_client(settings),
        )

    @property
    def client(self) -> DynamoDBClient:
        """The low-level client, built by the factory on first use."""
        return self._client.get()

    def create_ticket(
        self,
        ticket: Ticket,
        events: list[Event],
        idempotency: IdempotencyRecord | None = None,
        rollups: Mapping[RollupKey, CellDelta] | None = None,
        charge: RateCharge | None = None,
    ) -> None:
        """Store the ticket, its first events, its rollup increments, the idempotency record and
        the rate charge (``rate_limits.charge_update``) in one transaction.

        An existing idempotency record counts as free once ``expires_at`` is at or before the new
        record's ``created_at`` (TTL deletes expired items only eventually). Raises
        ``IdempotencyExistsError`` if an unexpired record holds the key (checked first, so the
        caller replays), else ``NumberTakenError`` if the number is in use, else
        ``RateChargeRefusedError`` if the charge's counter is at its limit; nothing is written.
        """
        for event in events:
            if event.number != ticket.number:
                raise ValueError(f"event of {event.number} given with ticket {ticket.number}")
        absent = "attribute_not_exists(#pk)"
        names = {"#pk": keys.PK}
        writes: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(ticket_item(ticket)),
                    "ConditionExpression": absent,
                    "ExpressionAttributeNames": names,
                }
            }
        ]
        for event in events:
            writes.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": to_item(event_item(event)),
                        "ConditionExpression": absent,
                        "ExpressionAttributeNames": names,
                    }
                }
            )
        writes.extend(self._rollup_updates([(ticket.number, rollups or {})]))
        charge_at = None
        if charge is not None:
            charge_at = len(writes)
            writes.append(charge_update(self.table_name, charge))
        if idempotency is not None:
            writes.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": to_item(idempotency_item(idempotency)),
                        "ConditionExpression": f"{absent} OR #expires_at <= :now",
                        "ExpressionAttributeNames": {**names, "#expires_at": "expires_at"},
                        "ExpressionAttributeValues": {
                            ":now": {"S": codec.iso(idempotency.created_at)}
                        },
                        # The refusal carries the holder, so a replay needs no second read.
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        if len(writes) > _MAX_TRANSACTION_ITEMS:
            raise ValueError(
                f"a ticket is created in at most {_MAX_TRANSACTION_ITEMS} writes "
                "(itself, its events, rollup cells, the idempotency record and the rate charge)"
            )

        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                with self._driver_errors("TransactWriteItems"):
                    self._count(requests=1)
                    self.client.transact_write_items(TransactItems=writes)
                return
            except ClientError as e:
                if _error_code(e) != "TransactionCanceledException":
                    raise
                reasons = e.response.get("CancellationReasons", [])
                codes = [r.get("Code", "None") for r in reasons]
                if idempotency is not None and codes and codes[-1] == "ConditionalCheckFailed":
                    old = reasons[-1].get("Item")
                    holder = codec.idempotency_from_record(from_item(old)) if old else None
                    raise IdempotencyExistsError(
                        "an unexpired request already holds this idempotency key", holder
                    ) from e
                failed = {i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"}
                if failed - {charge_at}:
                    raise NumberTakenError(f"ticket number {ticket.number} is taken") from e
                if failed:
                    raise RateChargeRefusedError("the rate counter is at its limit") from e
                if not _TRANSIENT_REASONS.intersection(codes):
                    raise
                if attempt == _CONFLICT_ATTEMPTS:
                    raise StoreUnavailableError(
                        f"DynamoDB TransactWriteItems kept being cancelled: {', '.join(codes)}"
                    ) from e
                time.sleep(_CONFLICT_BACKOFF_SECONDS * attempt)

    def get_ticket(self, number: str) -> TicketView | None:
        """The ticket and its events (oldest first) from one consistent Query, or None."""
        ticket: Ticket | None = None
        events: list[Event] = []
        start: dict[str, Any] | None = None
        while True:
            params: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": keys.PK},
                "ExpressionAttributeValues": {":pk": {"S": keys.ticket_pk(number)}},
                "ConsistentRead": True,
            }
            if start is not None:
                params["ExclusiveStartKey"] = start
            with self._driver_errors("Query"):
                self._count(requests=1)
                page = self.client.query(**params)
            self._count(items_read=page.get("ScannedCount", page.get("Count", 0)))
            for raw in page.get("Items", []):
                item = from_item(raw)
                sk = item[keys.SK]
                if sk == keys.TICKET_SK:
                    ticket = codec.ticket_from_record(item)
                elif sk.startswith(keys.EVENT_SK_PREFIX):
                    events.append(codec.event_from_record(item))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        if ticket is None:
            return None
        return TicketView(ticket=ticket, events=events)

    def get_idempotency(self, key_hash: str, now: datetime) -> IdempotencyRecord | None:
        """The record for ``key_hash`` from a consistent GetItem, or None if missing or expired."""
        key = {k: {"S": v} for k, v in keys.idempotency_key(key_hash).items()}
        with self._driver_errors("GetItem"):
            self._count(requests=1)
            response = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        raw = response.get("Item")
        if raw is None:
            return None
        self._count(items_read=1)
        record = codec.idempotency_from_record(from_item(raw))
        if record.expires_at <= now:
            return None
        return record

    def save_tickets(self, changes: Sequence[TicketChange]) -> None:
        """One TransactWriteItems: each ticket Put only if its stored version is the expected one,
        and every event Put only if absent."""
        seen: set[str] = set()
        for change in changes:
            if change.ticket.version != change.expected_version + 1:
                raise ValueError("ticket.version must be expected_version + 1")
            if change.ticket.number in seen:
                raise ValueError(f"ticket {change.ticket.number} appears twice in one save")
            seen.add(change.ticket.number)
            for event in change.events:
                if event.number != change.ticket.number:
                    raise ValueError(
                        f"event of {event.number} given with ticket {change.ticket.number}"
                    )
        if not changes:
            return  # DynamoDB rejects an empty transaction
        writes: list[TransactWriteItemTypeDef] = []
        positions: list[tuple[int, TicketChange]] = []
        for change in changes:
            ticket = change.ticket
            positions.append((len(writes), change))
            writes.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": to_item(ticket_item(ticket)),
                        "ConditionExpression": "#version = :expected",
                        "ExpressionAttributeNames": {"#version": "version"},
                        "ExpressionAttributeValues": {
                            ":expected": {"N": str(change.expected_version)}
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
            writes.extend(self._event_puts(change.events))
        writes.extend(self._rollup_updates([(c.ticket.number, c.rollups) for c in changes]))
        try:
            self._transact(writes)
        except ClientError as e:
            reasons = e.response.get("CancellationReasons", [])
            for position, change in positions:
                if position >= len(reasons):
                    continue
                reason = reasons[position]
                if reason.get("Code") != "ConditionalCheckFailed":
                    continue
                number = change.ticket.number
                if not reason.get("Item"):
                    raise NotFoundError(f"No ticket {number} exists.") from e
                stored = from_item(reason["Item"]).get("version")
                raise StaleVersionError(
                    f"Ticket {number} has changed (version {stored}, "
                    f"you sent {change.expected_version}); reload it and try again."
                ) from e
            raise

    def append_events(self, number: str, events: list[Event]) -> None:
        """Events Put only if absent, with a ConditionCheck that the ticket exists."""
        for event in events:
            if event.number != number:
                raise ValueError(f"event of {event.number} given for {number}")
        writes: list[TransactWriteItemTypeDef] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.ticket_key(number)),
                    "ConditionExpression": "attribute_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": keys.PK},
                }
            },
            *self._event_puts(events),
        ]
        try:
            self._transact(writes)
        except ClientError as e:
            codes = [r.get("Code", "None") for r in e.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise NotFoundError(f"No ticket {number} exists.") from e
            raise

    def _rollup_updates(
        self, parts: Iterable[tuple[str, Mapping[RollupKey, CellDelta]]]
    ) -> list[TransactWriteItemTypeDef]:
        """One Update per rollup item touched: ``ADD`` counters and samples, ``DELETE`` samples.

        ``parts`` pairs each delta with the ticket it belongs to: counters go to that ticket's
        shard, each sample to the shard of the ticket it names. Several parts touching one item
        are combined first (a transaction may not touch an item twice).
        """
        pieces: dict[tuple[RollupKey, int], list[Mapping[RollupKey, CellDelta]]] = defaultdict(list)
        for number, change in parts:
            counter_shard = keys.rollup_shard(number)
            for key, cell in change.items():
                if cell.counts:
                    pieces[(key, counter_shard)].append({key: CellDelta(counts=cell.counts)})
                for shard, samples in _by_shard(cell.added).items():
                    pieces[(key, shard)].append({key: CellDelta(added=samples)})
                for shard, samples in _by_shard(cell.removed).items():
                    pieces[(key, shard)].append({key: CellDelta(removed=samples)})
        updates: list[TransactWriteItemTypeDef] = []
        for (key, shard), deltas in sorted(pieces.items()):
            combined = rollup_cells.combine(deltas).get(key)
            if combined is not None:
                updates.append({"Update": self._rollup_update(key, shard, combined)})
        return updates

    def _rollup_update(self, key: RollupKey, shard: int, cell: CellDelta) -> Any:
        overlap = set(cell.added) & set(cell.removed)
        if overlap:
            raise ValueError(f"one change both adds and removes {sorted(overlap)} in {key}")
        names = {"#entity": "entity", "#day": "day", "#dimension": "dimension", "#value": "value"}
        values: dict[str, Any] = {
            ":entity": {"S": "rollup"},
            ":day": {"S": key.day},
            ":dimension": {"S": key.dimension},
            ":value": {"S": key.value},
        }
        adds, deletes = [], []
        for i, (name, n) in enumerate(sorted(cell.counts.items())):
            names[f"#c{i}"], values[f":c{i}"] = name, {"N": str(n)}
            adds.append(f"#c{i} :c{i}")
        for i, (metric, items) in enumerate(sorted(cell.added.items())):
            names[f"#a{i}"], values[f":a{i}"] = metric, {"SS": _elements(items)}
            adds.append(f"#a{i} :a{i}")
        for i, (metric, items) in enumerate(sorted(cell.removed.items())):
            names[f"#r{i}"], values[f":r{i}"] = metric, {"SS": _elements(items)}
            deletes.append(f"#r{i} :r{i}")
        expression = "SET #entity = :entity, #day = :day, #dimension = :dimension, #value = :value"
        if adds:
            expression += " ADD " + ", ".join(adds)
        if deletes:
            expression += " DELETE " + ", ".join(deletes)
        return {
            "TableName": self.table_name,
            "Key": to_item(keys.stats_key(key.day, key.dimension, key.value, shard)),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _stats_partition(self, day: str) -> list[RollupRow]:
        items = self._query_all(
            {
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": keys.PK},
                "ExpressionAttributeValues": {":pk": {"S": keys.stats_pk(day)}},
            }
        )
        return [_rollup_row(item) for item in items]

    def read_rollups(self, first_day: date, last_day: date) -> list[RollupRow]:
        """One Query per day partition (every shard of every cell of that day)."""
        rows: list[RollupRow] = []
        day = first_day
        while day <= last_day:
            rows.extend(self._stats_partition(day.isoformat()))
            day += timedelta(days=1)
        return rows

    def read_rollup_totals(self) -> list[RollupRow]:
        return self._stats_partition(TOTAL_DAY)

    def list_board(self, month: str) -> list[Ticket]:
        """One GSI3 query on the month's partition, newest resolution first."""
        items = self._query_all(
            {
                "IndexName": keys.BOARD_INDEX,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": keys.GSI3PK},
                "ExpressionAttributeValues": {":pk": {"S": keys.board_pk(month)}},
                "ScanIndexForward": False,
            }
        )
        return [codec.ticket_from_record(item) for item in items]

    def import_tickets(
        self, views: Sequence[TicketView], rollups: Mapping[RollupKey, CellDelta]
    ) -> None:
        """Tickets and events in transactions of up to 100 puts (the API's role allows item
        writes, not BatchWriteItem), then one UpdateItem per rollup item. Not atomic as a whole:
        meant for loading history; running it again rewrites the same items."""
        puts = [ticket_item(v.ticket) for v in views]
        puts += [event_item(e) for v in views for e in v.events]
        for start in range(0, len(puts), _MAX_TRANSACTION_ITEMS):
            self._transact(
                [
                    {"Put": {"TableName": self.table_name, "Item": to_item(item)}}
                    for item in puts[start : start + _MAX_TRANSACTION_ITEMS]
                ]
            )
        parts: list[tuple[str, Mapping[RollupKey, CellDelta]]] = []
        for key, cell in rollups.items():
            # Counters of a bulk load have no single ticket: spread them by cell.
            parts.append((f"{key.day}#{key.dimension}#{key.value}", {key: cell}))
        for update in self._rollup_updates(parts):
            with self._driver_errors("UpdateItem"):
                self._count(requests=1)
                self.client.update_item(**update["Update"])

    def _event_puts(self, events: list[Event]) -> list[TransactWriteItemTypeDef]:
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(event_item(event)),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": keys.PK},
                }
            }
            for event in events
        ]

    def _transact(self, writes: list[TransactWriteItemTypeDef]) -> None:
        """TransactWriteItems, retrying DynamoDB's transient cancellations (conflicts)."""
        if len(writes) > _MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {_MAX_TRANSACTION_ITEMS} items per transaction")
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                with self._driver_errors("TransactWriteItems"):
                    self._count(requests=1)
                    self.client.transact_write_items(TransactItems=writes)
                return
            except ClientError as e:
                if _error_code(e) != "TransactionCanceledException":
                    raise
                codes = [r.get("Code", "None") for r in e.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in codes or not _TRANSIENT_REASONS.intersection(codes):
                    raise
                if attempt == _CONFLICT_ATTEMPTS:
                    raise StoreUnavailableError(
                        f"DynamoDB TransactWriteItems kept being cancelled: {', '.join(codes)}"
                    ) from e
                time.sleep(_CONFLICT_BACKOFF_SECONDS * attempt)

    def _query_all(self, params: dict[str, Any], want: int | None = None) -> list[dict[str, Any]]:
        """Run a Query (following pages) until ``want`` items matched or the range is exhausted."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            call = dict(params, TableName=self.table_name)
            if start is not None:
                call["ExclusiveStartKey"] = start
            with self._driver_errors("Query"):
                self._count(requests=1)
                page = self.client.query(**call)
            self._count(items_read=page.get("ScannedCount", page.get("Count", 0)))
            items.extend(from_item(raw) for raw in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start or (want is not None and len(items) >= want):
                return items

    def list_queue(self, query: QueueQuery, after: str | None, limit: int) -> QueuePage:
        """One GSI2 query per (department, status) partition, from ``after`` on, merged in order.

        Every partition shares the same sort key (``Ticket.queue_sort_key``), so one position
        ``after`` resumes all of them.
        """
        names = {"#pk": keys.GSI2PK}
        if after is not None:
            names["#sk"] = keys.GSI2SK
        filters, values = [], {}
        if query.priority is not None:
            filters.append("#priority = :priority")
            names["#priority"] = "priority"
            values[":priority"] = {"S": query.priority}
        if query.assignee is not None:
            filters.append("#assignee = :assignee")
            names["#assignee"] = "assignee"
            values[":assignee"] = {"S": query.assignee}
        if query.due_before is not None:
            filters.append("#due_at < :due_before")
            names["#due_at"] = "due_at"
            values[":due_before"] = {"S": codec.iso(query.due_before)}
        found: list[dict[str, Any]] = []
        # Each partition once, however often a department or status is repeated in the query.
        for department in dict.fromkeys(query.departments):
            for status in dict.fromkeys(query.statuses):
                condition = "#pk = :pk" + (" AND #sk > :after" if after is not None else "")
                params: dict[str, Any] = {
                    "IndexName": keys.QUEUE_INDEX,
                    "KeyConditionExpression": condition,
                    "ExpressionAttributeNames": dict(names),
                    "ExpressionAttributeValues": {
                        ":pk": {"S": keys.queue_pk(department, status)},
                        **values,
                        **({":after": {"S": after}} if after is not None else {}),
                    },
                    "Limit": limit + 1,
                }
                if filters:
                    params["FilterExpression"] = " AND ".join(filters)
                found.extend(self._query_all(params, want=limit + 1)[: limit + 1])
        found.sort(key=lambda item: str(item[keys.GSI2SK]))
        tickets = [codec.ticket_from_record(item) for item in found[:limit]]
        last = tickets[-1].queue_sort_key if len(found) > limit and tickets else None
        return QueuePage(tickets, last)

    def list_due(self, before: datetime, limit: int) -> list[Ticket]:
        """One GSI1 query per shard for keys before ``before``, merged by due time."""
        found: list[dict[str, Any]] = []
        for shard in range(keys.DUE_SHARDS):
            params = {
                "IndexName": keys.DUE_INDEX,
                "KeyConditionExpression": "#pk = :pk AND #sk < :bound",
                "ExpressionAttributeNames": {"#pk": keys.GSI1PK, "#sk": keys.GSI1SK},
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.due_pk(shard)},
                    ":bound": {"S": keys.due_before_bound(before)},
                },
                "Limit": limit,
            }
            found.extend(self._query_all(params, want=limit)[:limit])
        found.sort(key=lambda item: str(item[keys.GSI1SK]))
        return [codec.ticket_from_record(item) for item in found[:limit]]

    def ping(self) -> None:
        """Read one absent key: raises StoreUnavailableError when the table cannot be read."""
        try:
            with self._driver_errors("GetItem"):
                self._count(requests=1)
                self.client.get_item(TableName=self.table_name, Key=_PING_KEY)
        except ClientError as e:
            # A health check reports a missing table or a denied read as "unavailable".
            raise StoreUnavailableError(
                f"DynamoDB table {self.table_name} cannot be read: {_error_code(e)}"
            ) from e

    def _count(self, *, requests: int = 0, items_read: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.items_read += items_read

    @contextmanager
    def _driver_errors(self, operation: str) -> Iterator[None]:
        """Turn transient driver errors into StoreUnavailableError; let the others through."""
        try:
            yield
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if _error_code(e) in _TRANSIENT_CODES or status >= 500:
                raise StoreUnavailableError(f"DynamoDB {operation} failed: {_error_code(e)}") from e
            raise
        except (BotocoreConnectionError, HTTPClientError) as e:
            raise StoreUnavailableError(f"DynamoDB {operation} failed: {e}") from e


def _by_shard(
    samples: Mapping[str, Mapping[str, int]],
) -> dict[int, dict[str, dict[str, int]]]:
    """Samples grouped by the shard of the ticket each names (identity ``<number>|<tag>``)."""
    grouped: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for metric, items in samples.items():
        for identity, seconds in items.items():
            grouped[keys.rollup_shard(sample_number(identity))][metric][identity] = seconds
    return {shard: dict(metrics) for shard, metrics in grouped.items()}


def _elements(samples: Mapping[str, int]) -> list[str]:
    """A string set's elements: ``<seconds>|<identity>`` (a set holds no values)."""
    return sorted(f"{seconds}|{identity}" for identity, seconds in samples.items())


def _rollup_row(item: Mapping[str, Any]) -> RollupRow:
    samples: dict[str, list[int]] = {}
    for name in SAMPLES:  # "<seconds>|<identity>": the reader needs the seconds only
        if name in item:
            samples[name] = [int(str(element).partition("|")[0]) for element in item[name]]
    counts = [int(item.get(name, 0)) for name in COUNTERS]
    return RollupRow(
        RollupKey(str(item["day"]), str(item["dimension"]), str(item["value"])), counts, samples
    )


def _error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))
