"""Rate-limit counters on DynamoDB (mixed into ``DynamoTicketStore``).

One item per (client hash, action, window): ``RATE#<client>#<action>#<window start>`` / ``RATE``
(``keys.rate_counter_key``). A bump is one ``UpdateItem`` with ``ADD`` (atomic, no lost
increments under concurrency) returning the new count; the item carries the table's TTL
attribute at the window's end, so DynamoDB deletes it without a purge job. The random-looking
client hash spreads counters over partitions; one busy client's counter takes at most one
write per request it makes.

Counters go through their own client (``make_counter_client`` in a deployment): one attempt
with one-second timeouts. The limiter fails open, so when DynamoDB is slow or unreachable a
check should cost the request it guards a second, not botocore's retries of up to 3 x 7 s.

A lookup's (or message's) counter lives inside the client's key-failure item when its window
lies inside that item's (``bump_keyed_counter``): one attribute per window, so one
``UpdateItem ... ReturnValues=ALL_NEW`` both counts the request and returns the key failures,
and a keyed request needs no ``GetItem`` before it. At the defaults (one-minute lookup windows
in an hour's item) the item grows to about 1 KB by the hour's end: one write unit, two at most.

A submission's charge is not a separate request: ``charge_update`` is one more item of the
ticket's own ``TransactWriteItems`` (through the main client), an ``Update`` of the same counter
item conditioned on ``attribute_not_exists(count) OR count < :limit``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.rate_limits import RateCharge, RateCounter, check_nested
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.schema import TTL_ATTRIBUTE

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    from chalicelib.config import Settings

COUNT_ATTRIBUTE = "count"


def make_counter_client(settings: Settings, *, session: Session | None = None) -> DynamoDBClient:
    """A DynamoDB client for rate-limit counters: one attempt, one-second timeouts."""
    import boto3  # deferred like make_client's: paid only when a client is built
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=1,
        read_timeout=1,
    )
    return (session or boto3.session.Session()).client(
        "dynamodb",
        region_name=settings.region,
        endpoint_url=settings.dynamodb_endpoint,
        config=config,
    )


class _Host(Protocol):
    """What the mixin uses of ``DynamoTicketStore``."""

    table_name: str
    _lock: Any
    _counter_factory: Callable[[], DynamoDBClient] | None
    _counter_cache: DynamoDBClient | None

    @property
    def client(self) -> DynamoDBClient: ...

    def _driver_errors(self, operation: str) -> AbstractContextManager[None]: ...

    def _count(self, *, requests: int = 0, items_read: int = 0) -> None: ...


def _counter_client(host: _Host) -> DynamoDBClient:
    """The client for counters, built on first use; the main client when none is configured."""
    factory = host._counter_factory
    if factory is None:
        return host.client
    client = host._counter_cache
    if client is None:
        with host._lock:
            client = host._counter_cache
            if client is None:
                client = factory()
                host._counter_cache = client
    return client


def _key(counter: RateCounter) -> dict[str, AttributeValueTypeDef]:
    key = keys.rate_counter_key(counter.client, counter.action, counter.window_start)
    return {name: {"S": value} for name, value in key.items()}


def charge_update(table_name: str, charge: RateCharge) -> TransactWriteItemTypeDef:
    """The transaction item that adds 1 to ``charge``'s counter while it is below the limit."""
    counter = charge.counter
    return {
        "Update": {
            "TableName": table_name,
            "Key": _key(counter),
            "UpdateExpression": "ADD #count :one SET #ttl = :ttl, #entity = :entity",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {
                "#count": COUNT_ATTRIBUTE,
                "#ttl": TTL_ATTRIBUTE,
                "#entity": "entity",
            },
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":limit": {"N": str(charge.limit)},
                ":ttl": {"N": str(math.ceil(counter.expires_at.timestamp()))},
                ":entity": {"S": "rate_counter"},
            },
        }
    }


class DynamoRateCounters:
    """The port's rate-counter operations for ``DynamoTicketStore``."""

    def rate_counter_client(self: _Host) -> DynamoDBClient:
        """The client stand-alone counters go through (for benchmarks that count requests)."""
        return _counter_client(self)

    def bump_rate_counter(self: _Host, counter: RateCounter, amount: int) -> int:
        with self._driver_errors("UpdateItem"):
            self._count(requests=1)
            response = _counter_client(self).update_item(
                TableName=self.table_name,
                Key=_key(counter),
                UpdateExpression="ADD #count :amount SET #ttl = :ttl, #entity = :entity",
                ExpressionAttributeNames={
                    "#count": COUNT_ATTRIBUTE,
                    "#ttl": TTL_ATTRIBUTE,
                    "#entity": "entity",
                },
                ExpressionAttributeValues={
                    ":amount": {"N": str(amount)},
                    # TTL deletes whole seconds late, never early.
                    ":ttl": {"N": str(math.ceil(counter.expires_at.timestamp()))},
                    ":entity": {"S": "rate_counter"},
                },
                ReturnValues="UPDATED_NEW",
            )
        return int(response["Attributes"][COUNT_ATTRIBUTE]["N"])

    def bump_keyed_counter(
        self: _Host, counter: RateCounter, amount: int, failures: RateCounter
    ) -> tuple[int, int]:
        """One ``UpdateItem`` of the ``failures`` item: ``ADD`` to the nested counter's own
        attribute (``<action>+<seconds into the failures window>``) and ``ALL_NEW``, which
        carries the failures' ``count`` too."""
        check_nested(counter, failures)
        offset = int((counter.window_start - failures.window_start).total_seconds())
        nested = f"{counter.action}+{offset}"
        with self._driver_errors("UpdateItem"):
            self._count(requests=1)
            response = _counter_client(self).update_item(
                TableName=self.table_name,
                Key=_key(failures),
                UpdateExpression="ADD #nested :amount SET #ttl = :ttl, #entity = :entity",
                ExpressionAttributeNames={
                    "#nested": nested,
                    "#ttl": TTL_ATTRIBUTE,
                    "#entity": "entity",
                },
                ExpressionAttributeValues={
                    ":amount": {"N": str(amount)},
                    ":ttl": {"N": str(math.ceil(failures.expires_at.timestamp()))},
                    ":entity": {"S": "rate_counter"},
                },
                ReturnValues="ALL_NEW",
            )
        item = response["Attributes"]
        spent = item.get(COUNT_ATTRIBUTE)
        return int(item[nested]["N"]), 0 if spent is None else int(spent["N"])

    def read_rate_counter(self: _Host, counter: RateCounter) -> int:
        with self._driver_errors("GetItem"):
            self._count(requests=1)
            response = _counter_client(self).get_item(
                TableName=self.table_name,
                Key=_key(counter),
                ConsistentRead=True,
                ProjectionExpression="#count",
                ExpressionAttributeNames={"#count": COUNT_ATTRIBUTE},
            )
        item = response.get("Item")
        if item is None:
            return 0
        self._count(items_read=1)
        return int(item[COUNT_ATTRIBUTE]["N"])

    def purge_rate_counters(self: _Host, now: datetime) -> int:
        """Nothing to do: the table's TTL deletes expired counters (within a day or two; no
        read ever asks for a past window)."""
        return 0
