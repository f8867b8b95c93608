"""Storage requests per API request (issue #10): each at its floor, on both adapters.

The floors: a submission is one write (with or without an ``Idempotency-Key``; its rate-limit
charge is part of that write, and a replay or a refusal at the limit is that write refused), a
status lookup one rate-counter write and one read (with a key too: the key-failure count comes
back with the counter's write), a staff transition one read (the state it is validated and
computed from) and one write. On SQLite the store's own request counter is read; on DynamoDB every API call the store's
client makes is recorded by name with botocore's ``before-call`` hook, so a call made around
the counter would show up too. The store is wrapped in ``RetryingStore`` as ``deps`` wraps it in
production.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.domain import rate_limits as rl
from chalicelib.services.rate_limits import RateLimitService
from chalicelib.store.dynamodb.store import DynamoTicketStore
from chalicelib.store.retry import RetryingStore
from tests.functional.conftest import Api
from tests.functional.staff_helpers import MovableClock, bearer, call, make_staff, submit

FEEDBACK = {
    "type": "complaint",
    "category": "service-waiting",
    "subject": "Long queue at counter 3",
    "description": "Waited two hours.",
    "consent_to_publish": True,
}


class Meter:
    """What the store did during ``measure()``: the adapter's request count and, on DynamoDB,
    the names of the API calls its client made."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.requests = 0
        self.calls: list[str] = []
        if isinstance(adapter, DynamoTicketStore):
            adapter.client.meta.events.register("before-call.dynamodb", self._on_call)

    def _on_call(self, model: Any, **_: Any) -> None:
        self.calls.append(str(model.name))

    @contextmanager
    def measure(self) -> Iterator[Meter]:
        self.calls.clear()
        before = self.adapter.requests
        yield self
        self.requests = self.adapter.requests - before

    def close(self) -> None:
        if isinstance(self.adapter, DynamoTicketStore):
            self.adapter.client.meta.events.unregister("before-call.dynamodb", self._on_call)


@pytest.fixture
def meter(api: Api) -> Iterator[Meter]:
    adapter = deps.store()
    deps.override(store=RetryingStore(adapter), clock=MovableClock())
    m = Meter(adapter)
    yield m
    m.close()


def _dynamodb(api: Api) -> bool:
    return api.kind != "sqlite"


def test_submission_without_idempotency_key_is_one_write(api: Api, meter: Meter) -> None:
    with meter.measure():
        r = api.post("/v1/feedback", FEEDBACK)
    assert r.status_code == 201, r.body
    assert meter.requests == 1
    if _dynamodb(api):
        assert meter.calls == ["TransactWriteItems"]


def test_submission_with_idempotency_key_is_one_write(api: Api, meter: Meter) -> None:
    with meter.measure():
        r = api.post("/v1/feedback", FEEDBACK, **{"Idempotency-Key": "form-1"})
    assert r.status_code == 201, r.body
    assert meter.requests == 1
    if _dynamodb(api):
        assert meter.calls == ["TransactWriteItems"]


def test_replay_is_the_refused_write_alone(api: Api, meter: Meter) -> None:
    first = api.post("/v1/feedback", FEEDBACK, **{"Idempotency-Key": "form-2"})
    with meter.measure():
        again = api.post("/v1/feedback", FEEDBACK, **{"Idempotency-Key": "form-2"})
    assert again.status_code == 201
    assert json.loads(again.body) == json.loads(first.body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    # The refusal carries the record that holds the key (DynamoDB: ALL_OLD on the condition
    # check), which both tells RetryingStore it is not its own earlier attempt and is replayed.
    assert meter.requests == 1
    if _dynamodb(api):
        assert meter.calls == ["TransactWriteItems"]
    with meter.measure():
        other = api.post(
            "/v1/feedback", {**FEEDBACK, "subject": "Else"}, **{"Idempotency-Key": "form-2"}
        )
    assert other.status_code == 422
    assert json.loads(other.body)["error"]["code"] == "idempotency_key_reused"
    assert meter.requests == 1


def _strict_submissions(count: int) -> None:
    """Submissions limited to ``count`` an hour per client (the other limits stay generous)."""
    s = deps.settings()
    limits = {**s.rate_limits, rl.SUBMIT: rl.Limit(count, 3600)}
    deps.override(rate_limits=RateLimitService(deps.store(), deps.keyring(), deps.clock(), limits))


def _submit_count(api: Api) -> int:
    service = deps.rate_limit_service()
    window = rl.window_at(deps.settings().rate_limits[rl.SUBMIT], deps.clock().now())
    return deps.store().read_rate_counter(
        rl.counter_for(service.client_hash("127.0.0.1"), rl.SUBMIT, window)
    )


def test_submission_at_the_limit_is_the_refused_write_alone(api: Api, meter: Meter) -> None:
    _strict_submissions(1)
    assert api.post("/v1/feedback", FEEDBACK).status_code == 201
    with meter.measure():
        r = api.post("/v1/feedback", {**FEEDBACK, "subject": "Again"})
    assert r.status_code == 429, r.body
    assert int(r.headers["Retry-After"]) > 0
    # The charge rides in the ticket's transaction, which the full counter cancels.
    assert meter.requests == 1
    if _dynamodb(api):
        assert meter.calls == ["TransactWriteItems"]


def test_replay_at_the_limit_is_one_request_and_not_charged(api: Api, meter: Meter) -> None:
    _strict_submissions(1)
    first = api.post("/v1/feedback", FEEDBACK, **{"Idempotency-Key": "form-3"})
    assert first.status_code == 201
    assert _submit_count(api) == 1
    with meter.measure():
        again = api.post("/v1/feedback", FEEDBACK, **{"Idempotency-Key": "form-3"})
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert json.loads(again.body) == json.loads(first.body)
    assert meter.requests == 1
    if _dynamodb(api):
        assert meter.calls == ["TransactWriteItems"]
    assert _submit_count(api) == 1


def test_submission_is_charged_in_its_one_write(api: Api, meter: Meter) -> None:
    with meter.measure():
        assert api.post("/v1/feedback", FEEDBACK).status_code == 201
        assert api.post("/v1/feedback", FEEDBACK, **{"Idempotency-Key": "f-4"}).status_code == 201
    assert meter.requests == 2
    assert _submit_count(api) == 2


@pytest.mark.parametrize("with_key", [True, False], ids=["keyed", "keyless"])
def test_status_lookup_is_one_counter_write_and_one_read(
    api: Api, meter: Meter, with_key: bool
) -> None:
    """The floor of a per-client-limited read: the counter's write and the read. A keyed
    lookup's key-failure check comes back with the counter's write (``bump_keyed_counter``)."""
    created = submit(api)
    headers = {"X-Ticket-Key": created["key"]} if with_key else {}
    with meter.measure():
        r = api.get(f"/v1/tickets/{created['number']}", **headers)
    assert r.status_code == 200, r.body
    assert ("timeline" in json.loads(r.body)) is with_key  # the public status without a key
    assert meter.requests == 2
    if _dynamodb(api):
        assert meter.calls == ["UpdateItem", "Query"]


def test_a_keyed_lookup_locked_by_key_failures_is_the_counter_write_alone(
    api: Api, meter: Meter
) -> None:
    s = deps.settings()
    limits = {**s.rate_limits, rl.KEY_FAILURE: rl.Limit(1, 60)}
    deps.override(rate_limits=RateLimitService(deps.store(), deps.keyring(), deps.clock(), limits))
    created = submit(api)
    path = f"/v1/tickets/{created['number']}"
    assert api.get(path, **{"X-Ticket-Key": "0" * 32}).status_code in (400, 403)
    with meter.measure():
        r = api.get(path, **{"X-Ticket-Key": created["key"]})
    assert r.status_code == 429, r.body
    assert meter.requests == 1
    if _dynamodb(api):
        assert meter.calls == ["UpdateItem"]


def test_transition_is_one_read_and_one_write(api: Api, meter: Meter) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    assert call(api, "GET", "/v1/staff/me", **al).status_code == 200  # records last use
    number = submit(api)["number"]
    path = f"/v1/staff/tickets/{number}/transitions"
    with meter.measure():
        r = call(api, "POST", path, {"status": "acknowledged"}, **al, **{"If-Match": "1"})
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["status"] == "acknowledged"
    # Authentication (the token, then its staff member), the ticket, the write.
    assert meter.requests == 4
    if _dynamodb(api):
        assert meter.calls == ["GetItem", "GetItem", "Query", "TransactWriteItems"]


def _transition(api: Api, h: dict[str, str], number: str, body: dict[str, Any]) -> Any:
    r = call(api, "POST", f"/v1/staff/tickets/{number}/transitions", body, **h)
    assert r.status_code == 200, r.body
    return r


@pytest.mark.parametrize(
    "steps",
    [
        [{"status": "acknowledged", "text": "On it."}],
        [{"status": "acknowledged"}, {"status": "awaiting_info", "text": "Which counter?"}],
        [
            {"status": "acknowledged"},
            {"status": "awaiting_info", "text": "Which day?"},
            {"status": "in_progress"},
        ],
        [
            {"status": "acknowledged"},
            {"status": "in_progress"},
            {"status": "resolved", "text": "Y"},
        ],
        [{"status": "rejected", "text": "Spam.", "reject_kind": "spam"}],
        [{"status": "merged"}],
    ],
    ids=["acknowledge", "await-info", "resume", "resolve", "reject-spam", "merge"],
)
def test_transition_answers_exactly_what_a_fresh_read_shows(
    api: Api, meter: Meter, steps: list[dict[str, Any]]
) -> None:
    """The answer is built from the state in hand, not read back: it must equal a new GET,
    timeline order, versions, SLA state and the ETag included."""
    clock = deps.clock()
    assert isinstance(clock, MovableClock)
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    number = submit(api, contact={"email": "a@example.org", "consent_to_contact": True})["number"]
    # An audit event (seq 900000+) and a reply among the events already stored.
    assert call(api, "GET", f"/v1/staff/tickets/{number}/contact", **al).status_code == 200
    reply = {"text": "Thanks.", "public": True}
    assert call(api, "POST", f"/v1/staff/tickets/{number}/replies", reply, **al).status_code == 201
    for step in steps:
        clock.advance(minutes=7)
        body = dict(step)
        if body["status"] == "merged":
            body["merge_into"] = submit(api)["number"]
        answered = _transition(api, al, number, body)
        fresh = call(api, "GET", f"/v1/staff/tickets/{number}", **al)
        assert json.loads(answered.body) == json.loads(fresh.body)
        assert answered.headers["ETag"] == fresh.headers["ETag"]


def test_the_sla_sweep_reads_a_resolved_ticket_only_once_its_auto_close_is_due(
    api: Api, meter: Meter
) -> None:
    """A resolved ticket's place in the due index is its auto-close time: the 5-minute SLA
    sweep does not read it before then (after it, until the daily run closes it, it does)."""
    clock = deps.clock()
    assert isinstance(clock, MovableClock)
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    number = submit(api)["number"]
    for status in ("acknowledged", "in_progress", "resolved"):
        _transition(api, al, number, {"status": status, "text": "Done."})
    resolved_at = clock.now()
    autoclose_at = resolved_at + deps.timers().autoclose_after
    sweep = deps.sweep_service()
    for when in (resolved_at + timedelta(minutes=5), autoclose_at - timedelta(minutes=1)):
        clock.current = when
        report = sweep.run(frozenset({"sla"}))
        assert (report.read, report.deferred) == (0, 0)
    clock.current = autoclose_at + timedelta(minutes=1)
    assert sweep.run(frozenset({"sla"})).deferred == 1
    report = sweep.run(frozenset({"autoclose"}))
    assert (report.read, report.closed) == (1, 1)
    assert sweep.run(frozenset({"sla", "autoclose"})).read == 0
