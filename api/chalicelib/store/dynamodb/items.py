"""Items of the single table: each record's keys and typed attribute values.

``to_item`` / ``from_item`` convert between plain records (``store/codec.py``) and DynamoDB's
typed values (numbers as decimals); the ``*_item`` builders add an entity's keys and index keys
(``keys.py``). boto3's serializers are imported on first use, not at cold start.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain.tickets import Event, Ticket
from chalicelib.store import codec
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.schema import TTL_ATTRIBUTE
from chalicelib.store.port import IdempotencyRecord

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    return {
        **keys.ticket_key(ticket.number),
        **keys.ticket_index_keys(ticket),
        "entity": "ticket",
        **codec.ticket_to_record(ticket),
    }


def event_item(event: Event) -> dict[str, Any]:
    return {
        **keys.event_key(event.number, event.at, event.seq),
        "entity": "event",
        **codec.event_to_record(event),
    }


def idempotency_item(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        **keys.idempotency_key(record.key_hash),
        "entity": "idempotency",
        # TTL deletes whole seconds late, never early; reads still check expires_at.
        TTL_ATTRIBUTE: math.ceil(record.expires_at.timestamp()),
        **codec.idempotency_to_record(record),
    }


@functools.cache
def _serializers() -> tuple[TypeSerializer, TypeDeserializer]:
    # boto3.dynamodb imports boto3 (~170 ms): defer it until the first item is converted.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """Typed attribute values for a plain record; None values are left out."""
    serializer, _ = _serializers()
    return {
        name: serializer.serialize(_to_dynamo_value(value))
        for name, value in record.items()
        if value is not None
    }


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain record from typed attribute values (numbers back to int or float)."""
    _, deserializer = _serializers()
    return {name: _from_dynamo_value(deserializer.deserialize(v)) for name, v in item.items()}


def _to_dynamo_value(value: Any) -> Any:
    # DynamoDB numbers are decimals: floats go through str() so 0.1 stays 0.1.
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store {value}")
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _to_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo_value(v) for v in value]
    return value


def _from_dynamo_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(value)
        return float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_value(v) for v in value]
    return value
