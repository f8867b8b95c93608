"""What only the DynamoDB adapter promises: request counts, item layout, schema, error mapping.

Tests on ``dynamo_store`` run on moto in-process and on moto's server; the error-mapping tests
use botocore's ``Stubber`` to play DynamoDB's answers (throttling, conflicts, pages) that moto
cannot produce on demand.
"""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from mypy_boto3_dynamodb.client import DynamoDBClient

from chalicelib.config import Settings
from chalicelib.errors import StoreUnavailableError
from chalicelib.store import codec
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.schema import TABLE_DEFINITION, TTL_ATTRIBUTE, create_table
from chalicelib.store.dynamodb.store import DynamoTicketStore, make_client
from tests.support.stores import DYNAMODB_KINDS, REGION, boto3_session, make_store
from tests.support.tickets import T0, make_event, make_record, make_ticket, number

CLOSED_STATUSES = ("resolved", "closed", "rejected", "merged")


@pytest.fixture(params=DYNAMODB_KINDS, ids=DYNAMODB_KINDS)
def dynamo_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DynamoTicketStore]:
    kind = str(request.param)
    url = request.getfixturevalue("moto_server_url") if kind == "dynamodb-server" else None
    with make_store(kind, tmp_path, url) as store:
        assert isinstance(store, DynamoTicketStore)
        yield store


def _raw_item(store: DynamoTicketStore, pk: str, sk: str) -> dict[str, Any]:
    response = store.client.get_item(
        TableName=store.table_name,
        Key={"PK": {"S": pk}, "SK": {"S": sk}},
        ConsistentRead=True,
    )
    return dict(response["Item"])


def _record_calls(client: DynamoDBClient) -> list[str]:
    calls: list[str] = []

    def before_call(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb.*", before_call)
    return calls


# -- on moto ------------------------------------------------------------------------------------


def test_create_is_one_transaction_and_get_is_one_query(dynamo_store: DynamoTicketStore) -> None:
    n = number(1)
    events = [make_event(n, i, T0 + timedelta(seconds=i)) for i in range(1, 6)]
    calls = _record_calls(dynamo_store.client)

    dynamo_store.create_ticket(make_ticket(n), events, make_record("idem-1", n))
    assert calls == ["TransactWriteItems"]

    calls.clear()
    view = dynamo_store.get_ticket(n)
    assert calls == ["Query"]
    assert view is not None
    assert len(view.events) == 5


def test_counters_count_requests_and_items_read(dynamo_store: DynamoTicketStore) -> None:
    n = number(2)
    events = [make_event(n, 1, T0), make_event(n, 2, T0)]
    dynamo_store.create_ticket(make_ticket(n), events, make_record("idem-2", n))
    assert (dynamo_store.requests, dynamo_store.items_read) == (1, 0)

    dynamo_store.get_ticket(n)
    assert (dynamo_store.requests, dynamo_store.items_read) == (2, 3)

    dynamo_store.get_idempotency("idem-2", T0)
    dynamo_store.get_idempotency("idem-missing", T0)
    assert (dynamo_store.requests, dynamo_store.items_read) == (4, 4)

    dynamo_store.ping()
    assert (dynamo_store.requests, dynamo_store.items_read) == (5, 4)


def test_open_tickets_carry_due_and_queue_keys(dynamo_store: DynamoTicketStore) -> None:
    n = number(3)
    ticket = make_ticket(n, status="acknowledged", priority="P1", department="parks")
    dynamo_store.create_ticket(ticket, [])

    item = _raw_item(dynamo_store, keys.ticket_pk(n), keys.TICKET_SK)
    assert ticket.due_at is not None
    due_at = codec.iso(ticket.due_at)
    assert item["GSI1PK"] == {"S": f"DUE#{keys.due_shard(n)}"}
    assert item["GSI1SK"] == {"S": f"{due_at}#{n}"}
    assert item["GSI2PK"] == {"S": "QUEUE#parks#acknowledged"}
    assert item["GSI2SK"] == {"S": f"{due_at}#{n}"}
    assert "GSI3PK" not in item
    # Every ticket is in a shard of its submission month's partitions (Open311 listing).
    month = codec.iso(ticket.submitted_at)[:7]
    assert item["GSI4PK"] == {"S": f"SUBMITTED#{month}#{keys.submitted_shard(n)}"}
    assert item["GSI4SK"] == {"S": f"{codec.iso(ticket.submitted_at)}#{n}"}

    due = dynamo_store.client.query(
        TableName=dynamo_store.table_name,
        IndexName=keys.DUE_INDEX,
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK < :before",
        ExpressionAttributeValues={
            ":pk": {"S": keys.due_pk(keys.due_shard(n))},
            ":before": {"S": keys.due_before_bound(T0 + timedelta(days=30))},
        },
    )
    assert [i["number"]["S"] for i in due["Items"]] == [n]


@pytest.mark.parametrize("status", CLOSED_STATUSES)
def test_tickets_with_nothing_due_leave_the_due_index(
    dynamo_store: DynamoTicketStore, status: str
) -> None:
    n = number(4)
    dynamo_store.create_ticket(make_ticket(n, status=status, due_at=None), [make_event(n, 1, T0)])

    item = _raw_item(dynamo_store, keys.ticket_pk(n), keys.TICKET_SK)
    assert not {"GSI1PK", "GSI1SK", "GSI3PK", "GSI3SK"} & set(item)
    # Every ticket stays in its department-and-status queue partition, nothing-due last.
    assert item["GSI2PK"] == {"S": f"QUEUE#public-works#{status}"}
    assert item["GSI2SK"]["S"].startswith("~")
    scan = dynamo_store.client.scan(TableName=dynamo_store.table_name, IndexName=keys.DUE_INDEX)
    assert scan["Items"] == []


def test_item_layout_follows_keys_py(dynamo_store: DynamoTicketStore) -> None:
    n = number(5)
    record = make_record("idem-5", n)
    event = make_event(n, 7, T0)
    dynamo_store.create_ticket(make_ticket(n, location=None, assignee=None), [event], record)

    ticket_item = _raw_item(dynamo_store, f"TICKET#{n}", "TICKET")
    assert ticket_item["number"] == {"S": n}
    assert ticket_item["attributes"]["M"]["ratio"] == {"N": "0.25"}
    # None is stored by leaving the attribute out.
    assert "location" not in ticket_item
    assert "assignee" not in ticket_item

    event_item = _raw_item(dynamo_store, f"TICKET#{n}", f"EVENT#{codec.iso(T0)}#000007")
    assert event_item["seq"] == {"N": "7"}

    idem_item = _raw_item(dynamo_store, "IDEM#idem-5", "IDEM")
    assert idem_item[TTL_ATTRIBUTE] == {"N": str(math.ceil(record.expires_at.timestamp()))}
    assert idem_item["expires_at"] == {"S": codec.iso(record.expires_at)}


def test_table_from_schema_has_four_indexes_and_ttl(dynamo_store: DynamoTicketStore) -> None:
    client, name = dynamo_store.client, dynamo_store.table_name

    table = client.describe_table(TableName=name)["Table"]
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {"GSI1", "GSI2", "GSI3", "GSI4"}
    for index_name, index in indexes.items():
        n = index_name[-1]
        assert index["KeySchema"] == [
            {"AttributeName": f"GSI{n}PK", "KeyType": "HASH"},
            {"AttributeName": f"GSI{n}SK", "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}
    assert table["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}

    # Idempotent, and can turn on point-in-time recovery for an existing table.
    create_table(client, name, point_in_time_recovery=True)
    backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert pitr == "ENABLED"


def test_ping_reports_a_missing_table_as_unavailable(dynamo_store: DynamoTicketStore) -> None:
    dynamo_store.ping()
    missing = DynamoTicketStore("no-such-table", lambda: dynamo_store.client)

    with pytest.raises(StoreUnavailableError, match="no-such-table"):
        missing.ping()
    # Outside a health check a missing table is a misconfiguration, not a transient failure.
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        missing.get_ticket(number(6))


# -- with DynamoDB's answers played by botocore's Stubber ---------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[DynamoTicketStore, Stubber]]:
    client = boto3_session().client("dynamodb", region_name=REGION)
    with Stubber(client) as stubber:
        yield DynamoTicketStore("stubbed", lambda: client), stubber
        stubber.assert_no_pending_responses()


def _cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message=f"Transaction cancelled [{', '.join(codes)}]",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": c} for c in codes]},
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ProvisionedThroughputExceededException", 400),
        ("RequestLimitExceeded", 400),
        ("InternalServerError", 500),
        ("SomethingNew", 503),
    ],
)
def test_transient_errors_become_store_unavailable(
    stubbed: tuple[DynamoTicketStore, Stubber], code: str, status: int
) -> None:
    store, stubber = stubbed
    stubber.add_client_error("query", service_error_code=code, http_status_code=status)

    with pytest.raises(StoreUnavailableError) as raised:
        store.get_ticket(number(7))
    assert isinstance(raised.value.__cause__, ClientError)


def test_other_client_errors_propagate(stubbed: tuple[DynamoTicketStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code="ValidationException")

    with pytest.raises(ClientError, match="ValidationException"):
        store.get_idempotency("idem", T0)


def test_transaction_conflicts_are_retried(stubbed: tuple[DynamoTicketStore, Stubber]) -> None:
    store, stubber = stubbed
    n = number(8)
    _cancelled(stubber, "None", "TransactionConflict")
    stubber.add_response("transact_write_items", {})

    store.create_ticket(make_ticket(n), [], make_record("idem", n))
    assert store.requests == 2


def test_endless_transaction_conflicts_become_unavailable(
    stubbed: tuple[DynamoTicketStore, Stubber],
) -> None:
    store, stubber = stubbed
    for _ in range(4):
        _cancelled(stubber, "TransactionConflict", "None")

    with pytest.raises(StoreUnavailableError, match="TransactionConflict"):
        store.create_ticket(make_ticket(number(9)), [make_event(number(9), 1, T0)])


def test_other_cancellations_propagate(stubbed: tuple[DynamoTicketStore, Stubber]) -> None:
    store, stubber = stubbed
    _cancelled(stubber, "ValidationError", "None")

    with pytest.raises(ClientError, match="TransactionCanceledException"):
        store.create_ticket(make_ticket(number(10)), [make_event(number(10), 1, T0)])


def test_get_ticket_reads_every_page(stubbed: tuple[DynamoTicketStore, Stubber]) -> None:
    store, stubber = stubbed
    n = number(11)
    ticket = make_ticket(n, attributes={"tags": ["a"]})
    events = [make_event(n, i, T0 + timedelta(seconds=i)) for i in (1, 2, 3)]
    serializer = TypeSerializer()

    def item(pk: str, sk: str, record: dict[str, Any]) -> dict[str, Any]:
        fields = {"PK": pk, "SK": sk, **record}
        return {k: serializer.serialize(v) for k, v in fields.items() if v is not None}

    raw_events = [
        item(keys.ticket_pk(n), keys.event_sk(e.at, e.seq), codec.event_to_record(e))
        for e in events
    ]
    raw_ticket = item(keys.ticket_pk(n), keys.TICKET_SK, codec.ticket_to_record(ticket))
    last = {k: raw_events[1][k] for k in ("PK", "SK")}
    stubber.add_response(
        "query", {"Items": raw_events[:2], "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": last}
    )
    stubber.add_response(
        "query", {"Items": [raw_events[2], raw_ticket], "Count": 2, "ScannedCount": 2}
    )

    view = store.get_ticket(n)

    assert view is not None
    assert view.ticket == ticket
    assert view.events == events
    assert (store.requests, store.items_read) == (2, 4)


@contextmanager
def closed_port() -> Iterator[int]:
    """A local port that is bound but not listening, so connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def test_unreachable_endpoint_is_unavailable() -> None:
    with closed_port() as port:
        client = boto3_session().client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=f"http://127.0.0.1:{port}",
            config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1),
        )
        store = DynamoTicketStore("any", lambda: client)

        with pytest.raises(StoreUnavailableError):
            store.ping()
        with pytest.raises(StoreUnavailableError):
            store.get_ticket(number(12))


def test_client_is_built_lazily_and_once() -> None:
    built: list[int] = []
    client = boto3_session().client("dynamodb", region_name=REGION)

    def factory() -> DynamoDBClient:
        built.append(1)
        return client

    store = DynamoTicketStore("lazy", factory)
    assert built == []

    barrier = threading.Barrier(8)

    def touch() -> None:
        barrier.wait()
        assert store.client is client

    threads = [threading.Thread(target=touch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1]


def test_make_client_uses_short_timeouts_and_standard_retries() -> None:
    settings = Settings.from_env(
        {"CLEARLOOP_DYNAMODB_ENDPOINT": "http://127.0.0.1:9", "AWS_REGION": "eu-central-1"}
    )
    client = make_client(settings)

    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert client.meta.region_name == "eu-central-1"
    config = vars(client.meta.config)  # the stubs do not declare Config's option attributes
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 3}
    assert (config["connect_timeout"], config["read_timeout"]) == (2, 5)
