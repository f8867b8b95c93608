"""The single-table definition, as plain data: one source for the deployment and the tests.

``TABLE_DEFINITION`` is exactly the keyword arguments of DynamoDB's ``CreateTable`` minus
``TableName``; ``infra/`` translates it into the deployment's table resource and the tests create
their tables from it with :func:`create_table`. Key formats and access patterns live in
:mod:`chalicelib.store.dynamodb.keys`.

Example::

    client = make_client(settings)              # chalicelib.store.dynamodb.store
    create_table(client, settings.table_name)   # creates, waits until active, enables TTL
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from chalicelib.store.dynamodb import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TTL_ATTRIBUTE: Final = "ttl"


def _index(name: str, pk: str, sk: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": pk, "KeyType": "HASH"},
            {"AttributeName": sk, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


TABLE_DEFINITION: Final[dict[str, Any]] = {
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"}
        for name in (keys.PK, keys.SK, *keys.INDEX_KEY_ATTRIBUTES)
    ],
    "KeySchema": [
        {"AttributeName": keys.PK, "KeyType": "HASH"},
        {"AttributeName": keys.SK, "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        _index(keys.DUE_INDEX, keys.GSI1PK, keys.GSI1SK),
        _index(keys.QUEUE_INDEX, keys.GSI2PK, keys.GSI2SK),
        _index(keys.BOARD_INDEX, keys.GSI3PK, keys.GSI3SK),
        _index(keys.SUBMITTED_INDEX, keys.GSI4PK, keys.GSI4SK),
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


class SchemaError(RuntimeError):
    """An existing table does not match what this code expects."""


def create_table(
    client: DynamoDBClient,
    name: str,
    *,
    point_in_time_recovery: bool = False,
    poll_seconds: int = 2,
) -> None:
    """Create the table ``name`` if it is missing, wait until it is active and enable TTL.

    Safe to call on an existing table. ``point_in_time_recovery`` also turns on continuous
    backups (the deployment does this in ``infra/``; the CLI may ask for it on AWS).
    """
    try:
        client.create_table(TableName=name, **copy.deepcopy(TABLE_DEFINITION))
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    # Creating a table with indexes takes seconds to minutes on AWS; moto is active at once.
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": poll_seconds, "MaxAttempts": 300 // poll_seconds}
    )
    ttl = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    status = ttl.get("TimeToLiveStatus", "DISABLED")
    if status in ("ENABLED", "ENABLING"):
        if ttl.get("AttributeName") != TTL_ATTRIBUTE:
            raise SchemaError(
                f"table {name} expires items by {ttl.get('AttributeName')!r}, "
                f"expected {TTL_ATTRIBUTE!r}"
            )
    else:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    if point_in_time_recovery:
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
