"""The API through ``chalice.test.Client``, on SQLite and on DynamoDB (moto in-process)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.sqlite import SqliteStore
from tests.support.limits import GENEROUS_RATE_LIMITS
from tests.support.stores import make_store


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
            **GENEROUS_RATE_LIMITS,
        }
    )


@pytest.fixture(params=["sqlite", "dynamodb-moto"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    kind = request.param
    deps.reset()
    with make_store(kind, tmp_path) as store:
        settings = _settings(tmp_path, "sqlite" if kind == "sqlite" else "dynamodb")
        if isinstance(store, SqliteStore):
            path = store.path

            def dump() -> str:
                with sqlite3.connect(path) as conn:
                    rows = conn.execute(
                        "SELECT doc FROM tickets UNION ALL SELECT doc FROM events "
                        "UNION ALL SELECT doc FROM idempotency"
                    ).fetchall()
                return "\n".join(r[0] for r in rows)

        else:
            assert isinstance(store, DynamoTicketStore)
            table, client = store.table_name, store.client

            def dump() -> str:
                items = client.scan(TableName=table)["Items"]
                return json.dumps(items, ensure_ascii=False)

        deps.override(settings=settings, store=store)
        with Client(app, stage_name="local") as client_:
            yield Api(client_, kind, settings, dump)
    deps.reset()
