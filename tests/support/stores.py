"""Stores under test: one helper builds every adapter the contract suite runs on.

``make_store(kind, tmp_path, moto_server_url)`` is a context manager yielding a ready store:

- ``sqlite``: a migrated ``SqliteStore`` on ``sqlite_path(tmp_path)``;
- ``dynamodb-moto``: a ``DynamoTicketStore`` on moto's in-process mock (``mock_aws`` stays
  active until the context exits), its client calls serialized (``SerializedCalls``);
- ``dynamodb-server``: a ``DynamoTicketStore`` on moto's server over HTTP, on a table of its own
  (deleted at exit), so tests can share one server.

Tables are created from ``chalicelib.store.dynamodb.schema``, the definition the deployment uses.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from chalicelib.config import Settings
from chalicelib.store.dynamodb.schema import create_table
from chalicelib.store.dynamodb.store import DynamoTicketStore, make_client
from chalicelib.store.port import TicketStore

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb.client import DynamoDBClient

STORE_KINDS = ("sqlite", "dynamodb-moto", "dynamodb-server")
DYNAMODB_KINDS = ("dynamodb-moto", "dynamodb-server")
REGION = "us-east-1"

# Fake credentials for every AWS client the tests build; real ones must never be used.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # No profile, config or instance metadata may supply credentials either.
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def sqlite_path(tmp_path: Path) -> Path:
    """Where ``make_store("sqlite", tmp_path, ...)`` keeps its database file."""
    return tmp_path / "clearloop.db"


@functools.cache
def boto3_session() -> Session:
    """One boto3 session for the test process: a fresh one parses the service model (~0.2 s).

    moto must be imported first: it hooks in-process mocking into botocore's built-in handlers,
    which a session copies when it is created, so a session made earlier is never mocked.
    """
    import boto3
    import moto  # noqa: F401 - registers moto's botocore hook before the session exists

    return boto3.session.Session()


def dynamodb_client(endpoint_url: str | None) -> DynamoDBClient:
    """A client built the way the app builds it (``make_client``), for moto or moto's server."""
    env = {"CLEARLOOP_STORE": "dynamodb", "AWS_REGION": REGION}
    if endpoint_url is not None:
        env["CLEARLOOP_DYNAMODB_ENDPOINT"] = endpoint_url
    return make_client(Settings.from_env(env), session=boto3_session())


def unique_table_name(prefix: str = "clearloop-test") -> str:
    """A table name no other test on the same server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@contextmanager
def make_store(
    kind: str, tmp_path: Path, moto_server_url: str | None = None
) -> Iterator[TicketStore]:
    """A ready, empty store of ``kind`` (one of ``STORE_KINDS``) for the duration of the block."""
    if kind == "sqlite":
        from chalicelib.store.sqlite import SqliteStore

        store = SqliteStore(sqlite_path(tmp_path))
        store.migrate()
        try:
            yield store
        finally:
            store.close()
    elif kind == "dynamodb-moto":
        from moto import mock_aws

        with mock_aws():
            yield _dynamo_store(cast("DynamoDBClient", SerializedCalls(dynamodb_client(None))))
    elif kind == "dynamodb-server":
        if moto_server_url is None:
            raise ValueError("dynamodb-server needs moto_server_url")
        client = dynamodb_client(moto_server_url)
        on_server = _dynamo_store(client)
        try:
            yield on_server
        finally:
            client.delete_table(TableName=on_server.table_name)
    else:
        raise ValueError(f"unknown store kind {kind!r}; expected one of {STORE_KINDS}")


class SerializedCalls:
    """A client whose API calls run one at a time, as moto's server does in these tests.

    In-process moto answers on the caller's thread and its DynamoDB backend is not thread-safe
    (see ``scripts/moto_server.py``); DynamoDB serializes transactions, so racing tests need the
    fake to do so as well. Everything else (``meta.events``, waiters) passes through.
    """

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or name in _PASS_THROUGH or not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


# Helpers that make no request themselves; the waiters and paginators they return call the
# unwrapped client, so they are for single-threaded setup only.
_PASS_THROUGH = frozenset({"can_paginate", "close", "get_paginator", "get_waiter"})


def _dynamo_store(client: DynamoDBClient) -> DynamoTicketStore:
    name = unique_table_name()
    create_table(client, name, poll_seconds=1)
    return DynamoTicketStore(name, lambda: client)
