"""Open311's per-client limits through the API, on SQLite and on DynamoDB (moto), JSON and XML.

``POST requests`` is limited per API key (``open311_submit``, charged in the ticket's own
write), the GET routes per client address (``open311_read``); a refusal is a 429 in the
standard's error format with ``Retry-After``. A wrong ``X-Ticket-Key`` on ``requests/{id}``
counts with the address's other wrong keys.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.local import LambdaEventConverter

from chalicelib import deps
from chalicelib.domain import rate_limits as rl
from tests.functional.conftest import Api
from tests.functional.test_open311 import V2, errors_of, parsed, post

# Ten minutes into an hour: hour windows end in 3000 s, minute windows in 60 s.
NOW = datetime(2026, 3, 2, 10, 10, 0, tzinfo=UTC)
ALICE = "203.0.113.77"
BOB = "198.51.100.23"
FORMATS = ("json", "xml")


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def strict(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    """Small limits, a fixed clock, requests from ALICE (before any service is built)."""
    limits = {
        **api.settings.rate_limits,
        rl.OPEN311_SUBMIT: rl.Limit(2, 3600),
        rl.OPEN311_READ: rl.Limit(3, 60),
        rl.KEY_FAILURE: rl.Limit(1, 3600),
        rl.SUBMIT: rl.Limit(100, 3600),
    }
    deps.override(
        settings=dataclasses.replace(api.settings, rate_limits=limits), clock=FixedClock()
    )
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ALICE)
    return api


def from_ip(monkeypatch: pytest.MonkeyPatch, ip: str) -> None:
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)


FORM = {"service_code": "service-waiting", "lat": "1.5", "long": "2.5"}


def create(api: Api, key: str, fmt: str = "json", **headers: str) -> Any:
    return post(api, fmt, {"api_key": key, **FORM}, **headers)


def assert_limited(response: Any, fmt: str, retry_after: int) -> str:
    (description,) = errors_of(response, fmt, 429)
    assert response.headers["Retry-After"] == str(retry_after)
    return description


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_api_key_has_its_own_submission_limit(strict: Api, fmt: str) -> None:
    keys = deps.open311_key_service()
    city, other = keys.issue("cityapp").key, keys.issue("otherapp").key
    for _ in range(2):
        assert create(strict, city, fmt).status_code == 201
    description = assert_limited(create(strict, city, fmt), fmt, 3000)
    assert "service requests" in description
    # Another app, from the same address, has its own allowance.
    assert create(strict, other, fmt).status_code == 201
    # The web form from the same address is not affected either.
    web = strict.post(
        "/v1/feedback",
        {
            "type": "complaint",
            "category": "service-waiting",
            "subject": "Queue",
            "description": "Long.",
        },
    )
    assert web.status_code == 201, web.body
    page = deps.store().list_submitted(NOW, NOW, None, 100)
    channels = sorted(t.channel for t in page.tickets)
    assert channels == ["open311", "open311", "open311", "web"]  # the refused one stored nothing


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_retry_of_a_stored_request_is_answered_at_the_limit(strict: Api, fmt: str) -> None:
    key = deps.open311_key_service().issue("cityapp").key
    first = create(strict, key, fmt, **{"Idempotency-Key": "app-req-1"})
    assert first.status_code == 201
    assert create(strict, key, fmt).status_code == 201
    assert create(strict, key, fmt).status_code == 429
    again = create(strict, key, fmt, **{"Idempotency-Key": "app-req-1"})
    assert again.status_code == 201, again.body
    assert parsed(again, fmt) == parsed(first, fmt)


def test_invalid_requests_are_not_charged(strict: Api) -> None:
    key = deps.open311_key_service().issue("cityapp").key
    for _ in range(3):
        bad = post(strict, "json", {"api_key": key, "service_code": "no-such-service"})
        assert bad.status_code == 400
    for _ in range(2):
        assert create(strict, key).status_code == 201


@pytest.mark.parametrize("fmt", FORMATS)
def test_reads_are_limited_per_address(
    strict: Api, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [f"{V2}/discovery.{fmt}", f"{V2}/services.{fmt}", f"{V2}/services/safety-hazard.{fmt}"]
    for path in paths:
        assert strict.get(path).status_code == 200
    assert_limited(strict.get(f"{V2}/requests.{fmt}"), fmt, 60)
    assert_limited(strict.get(f"{V2}/services.{fmt}"), fmt, 60)
    from_ip(monkeypatch, BOB)
    assert strict.get(f"{V2}/services.{fmt}").status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_key_on_a_request_counts_with_the_addresses_wrong_keys(
    strict: Api, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_key = deps.open311_key_service().issue("cityapp").key
    made = parsed(post(strict, "json", {"api_key": app_key, **FORM, "return_key": "true"}), "json")
    number, ticket_key = made[0]["service_request_id"], made[0]["key"]
    path = f"{V2}/requests/{number}.{fmt}"
    errors_of(strict.get(path, **{"X-Ticket-Key": "0" * 32}), fmt, 403)
    # The key-failure allowance (1 an hour) is spent: even the right key is refused unchecked,
    # on Open311 and on the web lookup alike; a request without a key is still answered.
    description = assert_limited(strict.get(path, **{"X-Ticket-Key": ticket_key}), fmt, 3000)
    assert "wrong ticket keys" in description
    web = strict.get(f"/v1/tickets/{number}", **{"X-Ticket-Key": ticket_key})
    assert web.status_code == 429
    from_ip(monkeypatch, BOB)
    assert strict.get(path, **{"X-Ticket-Key": ticket_key}).status_code == 200
