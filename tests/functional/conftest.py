"""The API through ``chalice.test.Client``, on SQLite and on DynamoDB (moto in-process)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.store.dynamodb.schema import create_table
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.sqlite import SqliteStore


class SerializedClient:
    """Runs one moto call at a time.

    DynamoDB executes each transaction atomically; moto in-process does not (a failed transaction
    restores a deep copy of the table, wiping writes that other threads made meanwhile). Holding a
    lock per call gives the tests DynamoDB's semantics without changing the adapter.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


@dataclass
class Api:
    """A test client plus raw access to what the store holds."""

    client: Client
    kind: str
    settings: Settings
    raw_dump: Any  # () -> str: every stored byte of every ticket, as text

    def post(self, path: str, body: Any, **headers: str) -> Any:
        text = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.http.post(
            path, headers={"Content-Type": "application/json", **headers}, body=text
        )

    def get(self, path: str, **headers: str) -> Any:
        return self.client.http.get(path, headers=headers)


def _settings(tmp_path: Path, store: str) -> Settings:
    return Settings.from_env(
        {
            "CLEARLOOP_STAGE": "local",
            "CLEARLOOP_STORE": store,
            "CLEARLOOP_DATA_DIR": str(tmp_path),
            "CLEARLOOP_TABLE": "clearloop-test",
        }
    )


@pytest.fixture(params=["sqlite", "dynamodb"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    kind = request.param
    settings = _settings(tmp_path, kind)
    deps.reset()
    if kind == "sqlite":
        store = SqliteStore(settings.sqlite_path)
        store.migrate()

        def dump() -> str:
            with sqlite3.connect(settings.sqlite_path) as conn:
                rows = conn.execute(
                    "SELECT doc FROM tickets UNION ALL SELECT doc FROM events "
                    "UNION ALL SELECT doc FROM idempotency"
                ).fetchall()
            return "\n".join(r[0] for r in rows)

        deps.override(settings=settings, store=store)
        with Client(app, stage_name="local") as client:
            yield Api(client, kind, settings, dump)
        store.close()
    else:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="us-east-1")
            create_table(ddb, settings.table_name)
            serialized = SerializedClient(ddb)
            store_d = DynamoTicketStore(settings.table_name, lambda: serialized)

            def dump() -> str:
                items = ddb.scan(TableName=settings.table_name)["Items"]
                return json.dumps(items, ensure_ascii=False)

            deps.override(settings=settings, store=store_d)
            with Client(app, stage_name="local") as client:
                yield Api(client, kind, settings, dump)
    deps.reset()
