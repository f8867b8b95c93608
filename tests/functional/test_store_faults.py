"""Storage faults through the API: a store that is briefly unavailable costs a retry, a store
that stays down answers 503 with Retry-After, and no answer ever claims a ticket that is not
stored (or hides one that is).

DynamoDB faults are injected the way they happen: botocore event hooks on the app's own client
(to moto's server) answer ``ThrottlingException`` or a 500 instead of moto, so botocore's retry
mode, the adapter's error mapping and ``RetryingStore`` all run as in production. A write that
commits and then times out is an ``after-call`` hook raising ``ReadTimeoutError``. On SQLite the
faults come from ``FaultyStore``, a fake at the port that raises what the adapter raises for
"database is locked" (``StoreUnavailableError``); the real lock is in tests/integration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from chalice.test import Client
from moto.core.botocore_stubber import MockRawResponse

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.errors import StoreUnavailableError
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.retry import RetryingStore
from chalicelib.store.sqlite import SqliteStore
from tests.support.stores import make_store

FEEDBACK = {
    "type": "complaint",
    "category": "service-waiting",
    "subject": "The queue at counter 3",
    "description": "Two hours, and nobody said why.",
}


class Api:
    def __init__(self, client: Client, adapter: Any) -> None:
        self.client = client
        self.adapter = adapter

    def submit(self, **headers: str) -> Any:
        return self.client.http.post(
            "/v1/feedback",
            headers={"Content-Type": "application/json", **headers},
            body=json.dumps(FEEDBACK),
        )

    def ticket_numbers(self) -> list[str]:
        if isinstance(self.adapter, SqliteStore):
            with self.adapter._write() as conn:
                return [r[0] for r in conn.execute("SELECT number FROM tickets")]
        items = self.adapter.client.scan(TableName=self.adapter.table_name)["Items"]
        return [i["number"]["S"] for i in items if i.get("entity", {}).get("S") == "ticket"]


def serve(tmp_path: Path, kind: str, wrap: Any, server: str | None = None) -> Iterator[Api]:
    deps.reset()
    with make_store(kind, tmp_path, server) as adapter:
        deps.override(
            settings=Settings.from_env(
                {
                    "CLEARLOOP_STAGE": "local",
                    "CLEARLOOP_STORE": "sqlite" if kind == "sqlite" else "dynamodb",
                    "CLEARLOOP_DATA_DIR": str(tmp_path),
                }
            ),
            store=RetryingStore(wrap(adapter), budget_seconds=2.0),
        )
        with Client(app, stage_name="local") as client:
            yield Api(client, adapter)
    deps.reset()


# -- DynamoDB: botocore event hooks ----------------------------------------------------------


@pytest.fixture
def dynamo(tmp_path: Path, moto_server_url: str) -> Iterator[Api]:
    # moto's server, not the in-process mock: in-process moto applies a request even when a
    # before-send hook answers it, so only over HTTP does an injected error mean "not written".
    yield from serve(tmp_path, "dynamodb-server", lambda adapter: adapter, moto_server_url)


def error_response(status: int, code: str) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": code})
    return AWSResponse(
        "https://dynamodb.us-east-1.amazonaws.com/",
        status,
        {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code},
        MockRawResponse(body.encode()),
    )


class Faults:
    """Answers the next ``times`` calls of ``operation`` with an error instead of DynamoDB."""

    def __init__(
        self, store: DynamoTicketStore, operation: str, times: int, status: int, code: str
    ):
        self.left = times
        self.calls = 0
        self.status, self.code = status, code
        store.client.meta.events.register(f"before-send.dynamodb.{operation}", self.before_send)

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        self.calls += 1
        if self.left <= 0:
            return None  # moto answers
        self.left -= 1
        return error_response(self.status, self.code)


def test_throttled_twice_botocore_retries_and_one_ticket_is_stored(dynamo: Api) -> None:
    faults = Faults(dynamo.adapter, "TransactWriteItems", 2, 400, "ThrottlingException")
    r = dynamo.submit()
    assert r.status_code == 201, r.body
    assert faults.calls == 3
    assert dynamo.ticket_numbers() == [json.loads(r.body)["number"]]


def test_a_longer_outage_is_bridged_by_the_retrying_store(dynamo: Api) -> None:
    # botocore gives up after its 3 tries; RetryingStore tries again (3 more) within 2 s.
    faults = Faults(dynamo.adapter, "TransactWriteItems", 4, 500, "InternalServerError")
    r = dynamo.submit(**{"Idempotency-Key": "outage-1"})
    assert r.status_code == 201, r.body
    assert faults.calls >= 5
    assert dynamo.ticket_numbers() == [json.loads(r.body)["number"]]


def test_a_store_that_stays_down_is_503_with_retry_after_and_nothing_stored(dynamo: Api) -> None:
    Faults(dynamo.adapter, "TransactWriteItems", 10_000, 500, "InternalServerError")
    Faults(dynamo.adapter, "GetItem", 10_000, 500, "InternalServerError")
    r = dynamo.submit(**{"Idempotency-Key": "down-1"})
    assert r.status_code == 503, r.body
    assert int(r.headers["Retry-After"]) >= 1
    error = json.loads(r.body)["error"]
    assert error["code"] == "unavailable"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert dynamo.ticket_numbers() == []


def test_lookups_during_throttling_are_503_not_500(dynamo: Api) -> None:
    created = json.loads(dynamo.submit().body)
    Faults(dynamo.adapter, "Query", 10_000, 400, "ProvisionedThroughputExceededException")
    r = dynamo.client.http.get(f"/v1/tickets/{created['number']}")
    assert r.status_code == 503, r.body
    assert r.headers["Retry-After"]


class TimeoutAfterCommit:
    """The write reaches DynamoDB and commits; the answer is lost (a read timeout)."""

    def __init__(self, store: DynamoTicketStore, times: int = 1) -> None:
        self.left = times
        store.client.meta.events.register("after-call.dynamodb.TransactWriteItems", self.after_call)

    def after_call(self, **_: Any) -> None:
        if self.left > 0:
            self.left -= 1
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")


@pytest.mark.parametrize("idempotency_key", [None, "lost-answer-1"])
def test_a_write_that_committed_before_a_timeout_is_one_201_and_one_ticket(
    dynamo: Api, idempotency_key: str | None
) -> None:
    TimeoutAfterCommit(dynamo.adapter)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    r = dynamo.submit(**headers)
    assert r.status_code == 201, r.body
    created = json.loads(r.body)
    assert dynamo.ticket_numbers() == [created["number"]]
    # The key in the answer opens the ticket that was stored.
    view = dynamo.client.http.get(
        f"/v1/tickets/{created['number']}", headers={"X-Ticket-Key": created["key"]}
    )
    assert view.status_code == 200
    if idempotency_key:
        again = json.loads(dynamo.submit(**headers).body)
        assert again["number"] == created["number"]
        assert again["key"] == created["key"]
        assert dynamo.ticket_numbers() == [created["number"]]


def test_a_staff_change_that_committed_before_a_timeout_is_not_a_false_conflict(
    dynamo: Api,
) -> None:
    access = deps.staff_access_service()
    access.add_staff("al", "Al", "agent", ["customer-service"])
    token = access.issue_token("al", days=1).token
    number = json.loads(dynamo.submit().body)["number"]
    TimeoutAfterCommit(dynamo.adapter)
    r = dynamo.client.http.post(
        f"/v1/staff/tickets/{number}/transitions",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "If-Match": "1",
        },
        body=json.dumps({"status": "acknowledged"}),
    )
    assert r.status_code == 200, r.body
    body = json.loads(r.body)
    assert body["version"] == 2
    assert [e["kind"] for e in body["timeline"]].count("status_changed") == 1


# -- SQLite: a fake at the port ----------------------------------------------------------------


class FaultyStore:
    """Raises StoreUnavailableError("database is locked") for the next ``fail[op]`` calls."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.fail: dict[str, int] = {}
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.fail.get(name, 0) > 0:
                self.fail[name] -= 1
                raise StoreUnavailableError("database busy: database is locked")
            return real(*args, **kwargs)

        return call if callable(real) else real


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Api]:
    yield from serve(tmp_path, "sqlite", FaultyStore)


def faulty(api: Api) -> FaultyStore:
    store = deps.store()
    assert isinstance(store, RetryingStore)
    inner = store.inner
    assert isinstance(inner, FaultyStore)
    return inner


def test_sqlite_locked_a_few_times_then_free_is_one_201(sqlite: Api) -> None:
    faulty(sqlite).fail["create_ticket"] = 3
    r = sqlite.submit(**{"Idempotency-Key": "locked-1"})
    assert r.status_code == 201, r.body
    assert faulty(sqlite).calls["create_ticket"] == 4
    assert sqlite.ticket_numbers() == [json.loads(r.body)["number"]]


def test_sqlite_locked_for_good_is_503_with_retry_after_and_nothing_stored(sqlite: Api) -> None:
    faulty(sqlite).fail["create_ticket"] = 10_000
    faulty(sqlite).fail["get_ticket"] = 10_000
    r = sqlite.submit(**{"Idempotency-Key": "locked-2"})
    assert r.status_code == 503, r.body
    assert r.headers["Retry-After"] == "2"
    assert json.loads(r.body)["error"]["code"] == "unavailable"
    assert sqlite.ticket_numbers() == []
    # Later, the same request goes through once.
    faulty(sqlite).fail.clear()
    again = sqlite.submit(**{"Idempotency-Key": "locked-2"})
    assert again.status_code == 201
    assert sqlite.ticket_numbers() == [json.loads(again.body)["number"]]


def test_health_reports_a_locked_store_at_once(sqlite: Api) -> None:
    faulty(sqlite).fail["ping"] = 1
    r = sqlite.client.http.get("/v1/health")
    assert r.status_code == 503
    assert r.headers["Retry-After"]
    assert faulty(sqlite).calls["ping"] == 1  # a health check is not retried
