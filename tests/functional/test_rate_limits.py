"""Per-client rate limits through the API (``chalice.test.Client``), on SQLite and DynamoDB (moto).

The client's address is what API Gateway puts in ``requestContext.identity.sourceIp``; Chalice's
local gateway always says 127.0.0.1, so ``from_ip`` sets the address the emulated gateway
reports. The clock is fixed, so Retry-After values are exact.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.local import LambdaEventConverter
from chalice.test import Client

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.domain import rate_limits as rl
from chalicelib.domain.rate_limits import RateCounter
from chalicelib.errors import StoreUnavailableError
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.port import TicketStore
from chalicelib.store.sqlite import SqliteStore
from tests.support.stores import make_store

# Ten minutes into an hour: hour windows end in 3000 s, minute windows in 60 s.
NOW = datetime(2026, 3, 2, 10, 10, 0, tzinfo=UTC)
ALICE = "203.0.113.77"
BOB = "198.51.100.23"
ORIGIN = "http://127.0.0.1:8001"
FEEDBACK = {
    "type": "complaint",
    "category": "service-waiting",
    "subject": "The queue at counter 3",
    "description": "Two hours, and nobody said why.",
}
LIMITS = {
    "CLEARLOOP_RATE_SUBMIT": "3/1h",
    "CLEARLOOP_RATE_LOOKUP": "6/1m",
    "CLEARLOOP_RATE_MESSAGE": "4/1h",
    "CLEARLOOP_RATE_KEY_FAILURE": "2/1h",
}


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class Api:
    client: Client
    store: TicketStore
    monkeypatch: pytest.MonkeyPatch

    def from_ip(self, ip: str) -> None:
        """Later requests come from ``ip`` (as API Gateway would report it)."""
        self.monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)

    def submit(self, body: Any = None, **headers: str) -> Any:
        return self.client.http.post(
            "/v1/feedback",
            headers={"Content-Type": "application/json", "Origin": ORIGIN, **headers},
            body=json.dumps(FEEDBACK if body is None else body),
        )

    def lookup(self, number: str, key: str | None = None) -> Any:
        headers = {"Origin": ORIGIN}
        if key is not None:
            headers["X-Ticket-Key"] = key
        return self.client.http.get(f"/v1/tickets/{number}", headers=headers)

    def message(self, number: str, key: str, text: str = "More detail.") -> Any:
        return self.client.http.post(
            f"/v1/tickets/{number}/messages",
            headers={"Content-Type": "application/json", "X-Ticket-Key": key},
            body=json.dumps({"text": text}),
        )

    def rate(self, number: str, key: str) -> Any:
        return self.client.http.post(
            f"/v1/tickets/{number}/rating",
            headers={"Content-Type": "application/json", "X-Ticket-Key": key},
            body=json.dumps({"score": 4}),
        )

    def ticket(self) -> tuple[str, str]:
        """A fresh ticket's number and key, submitted from an address of its own."""
        self.from_ip("192.0.2.250")
        response = self.submit(FEEDBACK | {"subject": f"Seed {len(self.tickets())}"})
        assert response.status_code == 201, response.body
        body = json.loads(response.body)
        return body["number"], body["key"]

    def tickets(self) -> list[str]:
        if isinstance(self.store, SqliteStore):
            with sqlite3.connect(self.store.path) as conn:
                return [r[0] for r in conn.execute("SELECT number FROM tickets")]
        assert isinstance(self.store, DynamoTicketStore)
        items = self.store.client.scan(TableName=self.store.table_name)["Items"]
        return [i["number"]["S"] for i in items if i.get("entity", {}).get("S") == "ticket"]

    def raw_contents(self) -> str:
        """Every stored byte, as text: the SQLite file (and its WAL), or a scan of the table."""
        if isinstance(self.store, SqliteStore):
            parts = [self.store.path, self.store.path.with_name(self.store.path.name + "-wal")]
            return "".join(p.read_bytes().decode("latin-1") for p in parts if p.exists())
        assert isinstance(self.store, DynamoTicketStore)
        return json.dumps(self.store.client.scan(TableName=self.store.table_name)["Items"])


def _settings(tmp_path: Path, kind: str, limits: dict[str, str]) -> Settings:
    return Settings.from_env(
        {
            "CLEARLOOP_STAGE": "local",
            "CLEARLOOP_STORE": "sqlite" if kind == "sqlite" else "dynamodb",
            "CLEARLOOP_DATA_DIR": str(tmp_path),
            "CLEARLOOP_SITE_ORIGIN": ORIGIN,
            **limits,
        }
    )


@pytest.fixture(params=["sqlite", "dynamodb-moto"])
def api(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    deps.reset()
    with make_store(request.param, tmp_path) as store:
        deps.override(
            settings=_settings(tmp_path, request.param, LIMITS),
            store=store,
            clock=FixedClock(NOW),
        )
        with Client(app, stage_name="local") as client:
            yield Api(client, store, monkeypatch)
    deps.reset()


def assert_limited(response: Any, retry_after: int) -> dict[str, Any]:
    assert response.status_code == 429, response.body
    assert response.headers["Retry-After"] == str(retry_after)
    body = json.loads(response.body)
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["fields"] == {}
    assert body["error"]["message"]
    return body


def test_the_fourth_submission_from_one_address_is_429_with_retry_after(api: Api) -> None:
    api.from_ip(ALICE)
    for _ in range(3):
        assert api.submit().status_code == 201
    response = api.submit()
    body = assert_limited(response, 3000)  # the hour window ends at 11:00
    assert "submissions" in body["error"]["message"]
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert len(api.tickets()) == 3  # the refused submission stored nothing


def test_addresses_are_limited_independently(api: Api) -> None:
    api.from_ip(ALICE)
    for _ in range(3):
        api.submit()
    assert api.submit().status_code == 429
    api.from_ip(BOB)
    assert api.submit().status_code == 201
    api.from_ip("2001:db8:aa:bb::1")
    assert api.submit().status_code == 201


def test_an_idempotent_replay_is_not_charged_again(api: Api) -> None:
    api.from_ip(ALICE)
    first = api.submit(**{"Idempotency-Key": "replay-me"})
    assert first.status_code == 201
    for _ in range(3):  # replays cost nothing...
        again = api.submit(**{"Idempotency-Key": "replay-me"})
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
    assert api.submit(FEEDBACK | {"subject": "Second"}).status_code == 201
    assert api.submit(FEEDBACK | {"subject": "Third"}).status_code == 201
    assert api.submit(FEEDBACK | {"subject": "Fourth"}).status_code == 429
    # ...even once the allowance is spent: a client that lost the answer still gets its ticket.
    replay = api.submit(**{"Idempotency-Key": "replay-me"})
    assert replay.status_code == 201
    assert json.loads(replay.body)["number"] == json.loads(first.body)["number"]
    assert len(api.tickets()) == 3
    # The counter holds the three stored submissions: neither the replays nor the refusal
    # (whose transaction wrote nothing) were charged.
    assert api.store.read_rate_counter(submit_counter(api)) == 3


def submit_counter(api: Api) -> RateCounter:
    limit = deps.settings().rate_limits[rl.SUBMIT]
    client = deps.rate_limit_service().client_hash(ALICE)
    return rl.counter_for(client, rl.SUBMIT, rl.window_at(limit, NOW))


def test_invalid_submissions_are_400_and_not_counted(api: Api) -> None:
    api.from_ip(ALICE)
    for _ in range(5):
        assert api.submit({"type": "complaint"}).status_code == 400
    assert api.submit().status_code == 201


def test_lookups_are_limited_per_minute(api: Api) -> None:
    number, key = api.ticket()
    api.from_ip(ALICE)
    for i in range(6):
        assert api.lookup(number, key if i % 2 else None).status_code == 200
    assert_limited(api.lookup(number), 60)  # the minute window ends at 10:11


def test_wrong_keys_lock_out_keyed_lookups_faster_than_the_lookup_limit(api: Api) -> None:
    number, key = api.ticket()
    api.from_ip(ALICE)
    for guess in ("0" * 32, "1" * 32):  # CLEARLOOP_RATE_KEY_FAILURE = 2/1h
        response = api.lookup(number, guess)
        assert response.status_code == 403
        assert json.loads(response.body)["error"]["code"] == "invalid_key"
    # Locked: even the right key is refused now, before it is checked, for the rest of the hour.
    body = assert_limited(api.lookup(number, key), 3000)
    assert "wrong ticket keys" in body["error"]["message"]
    assert_limited(api.message(number, key), 3000)
    assert_limited(api.rate(number, key), 3000)
    # The public status (no key) is still there, within the lookup limit.
    assert api.lookup(number).status_code == 200
    # Another address is not affected.
    api.from_ip(BOB)
    assert api.lookup(number, key).status_code == 200


def test_wrong_keys_on_messages_and_ratings_count_too(api: Api) -> None:
    number, key = api.ticket()
    api.from_ip(ALICE)
    assert api.message(number, "2" * 32).status_code == 403
    assert api.rate(number, "3" * 32).status_code == 403
    assert_limited(api.lookup(number, key), 3000)


def test_messages_and_ratings_share_a_limit(api: Api) -> None:
    number, key = api.ticket()
    api.from_ip(ALICE)
    for i in range(4):
        assert api.message(number, key, f"Detail {i}").status_code == 201
    body = assert_limited(api.message(number, key), 3000)
    assert "messages and ratings" in body["error"]["message"]
    assert_limited(api.rate(number, key), 3000)


def test_the_raw_address_is_never_stored(api: Api) -> None:
    number, key = api.ticket()
    api.from_ip(ALICE)
    api.submit()
    api.lookup(number, key)
    api.lookup(number, "0" * 32)
    api.message(number, key)
    contents = api.raw_contents()
    client = deps.rate_limit_service().client_hash(ALICE)
    assert client in contents  # the counters are there, under the keyed hash...
    assert ALICE not in contents  # ...and the address is not, in any form
    assert ALICE.encode().hex() not in contents
    assert "192.0.2.250" not in contents


class CountersDown:
    """The real store, except that its stand-alone rate counters are unavailable."""

    def __init__(self, inner: TicketStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def bump_rate_counter(self, *_: Any) -> int:
        raise StoreUnavailableError("database is locked")

    def read_rate_counter(self, *_: Any) -> int:
        raise StoreUnavailableError("database is locked")

    def bump_keyed_counter(self, *_: Any) -> tuple[int, int]:
        raise StoreUnavailableError("database is locked")


def test_a_limiter_whose_counters_fail_lets_lookups_through(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    deps.override(store=CountersDown(api.store))  # before the first request builds services
    number, key = api.ticket()  # a submission uses no stand-alone counter
    api.from_ip(ALICE)
    for i in range(9):  # past the limit of 6 a minute: not counted, so not refused
        assert api.lookup(number, key if i % 2 else None).status_code == 200
    assert "request allowed" in caplog.text
    assert ALICE not in caplog.text


def test_a_submissions_charge_is_in_its_own_write(api: Api) -> None:
    """Submissions do not use the stand-alone counters: their charge rides in the ticket's
    transaction, so broken counters change nothing for them, and the limit still holds."""
    deps.override(store=CountersDown(api.store))
    api.from_ip(ALICE)
    for _ in range(3):
        assert api.submit().status_code == 201
    assert api.submit().status_code == 429
    assert len(api.tickets()) == 3


def test_a_submission_whose_store_fails_is_503_stored_nowhere_and_not_charged(api: Api) -> None:
    class WritesDown(CountersDown):
        down = True

        def create_ticket(self, *args: Any, **kwargs: Any) -> None:
            if self.down:
                raise StoreUnavailableError("the table is throttled")
            self._inner.create_ticket(*args, **kwargs)

    store = WritesDown(api.store)
    deps.override(store=store)
    api.from_ip(ALICE)
    for _ in range(4):
        response = api.submit()
        assert response.status_code == 503
        assert response.headers["Retry-After"]
    store.down = False
    assert api.tickets() == []
    for _ in range(3):  # the failed attempts charged nothing: the whole allowance is left
        assert api.submit().status_code == 201
    assert api.submit().status_code == 429


def test_daily_housekeeping_purges_expired_counters(api: Api) -> None:
    api.from_ip(ALICE)
    api.submit()
    clock = deps.clock()
    assert isinstance(clock, FixedClock)
    clock.at = NOW + timedelta(hours=1)  # the hour window has ended
    event = api.client.events.generate_cw_event(
        "aws.events", "Scheduled Event", {}, ["rule/daily_housekeeping"]
    )
    result = api.client.lambda_.invoke("daily_housekeeping", event)
    assert result.payload["rate_counters_purged"] == (
        1 if isinstance(api.store, SqliteStore) else 0
    )
    if isinstance(api.store, SqliteStore):  # DynamoDB's TTL deletes them instead
        with sqlite3.connect(api.store.path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM rate_counters").fetchone() == (0,)


def test_limits_switched_off_refuse_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps.reset()
    with make_store("sqlite", tmp_path) as store:
        off = _settings(tmp_path, "sqlite", {**LIMITS, "CLEARLOOP_RATE_LIMITS": "off"})
        deps.override(settings=off, store=store, clock=FixedClock(NOW))
        with Client(app, stage_name="local") as client:
            api = Api(client, store, monkeypatch)
            for _ in range(6):
                assert api.submit().status_code == 201
    deps.reset()
