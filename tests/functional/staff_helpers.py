"""Helpers for staff-side functional tests: accounts, tokens and a controllable clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import deps
from tests.functional.conftest import Api

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 09:00


class MovableClock:
    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class Principal:
    name: str
    headers: dict[str, str]


def make_staff(staff_id: str, role: str, departments: list[str], name: str | None = None) -> str:
    """Create a staff member and return a fresh bearer token for them."""
    service = deps.staff_access_service()
    service.add_staff(staff_id, name or f"{staff_id.title()} Person", role, departments)
    return service.issue_token(staff_id, days=30).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit(api: Api, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "complaint",
        "category": "service-waiting",
        "subject": "Long queue at counter 3",
        "description": "Waited two hours.",
        "consent_to_publish": True,
    }
    body.update(changes)
    r = api.post("/v1/feedback", body)
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


def call(api: Api, method: str, path: str, body: Any = None, **headers: str) -> Any:
    h = {"Content-Type": "application/json", **headers}
    text = None if body is None else json.dumps(body)
    return getattr(api.client.http, method.lower())(path, headers=h, body=text)


def data(response: Any) -> Any:
    return json.loads(response.body) if response.body else None
