"""Regression tests for the bugs the fuzzing and the Unicode property tests found (non-ASCII
cursors, superscript digits in limit and If-Match, lone surrogates in JSON), with the exact
requests that used to answer 500.

Each test states what the API must answer: a 400 in the error format, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from tests.fuzz.wsgi import ChaliceWsgi
from tests.support.limits import GENEROUS_RATE_LIMITS

GOOD = {
    "type": "complaint",
    "category": "service-waiting",
    "subject": "Queue",
    "description": "Two hours.",
}


class Api:
    def __init__(self, token: str, number: str) -> None:
        self.client = Client(ChaliceWsgi(app))
        self.staff = {"Authorization": f"Bearer {token}"}
        self.number = number

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body)
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        return self.client.open(path, method=method, data=data, headers=headers)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    deps.reset()
    deps.override(
        settings=Settings.from_env(
            {
                "CLEARLOOP_STAGE": "local",
                "CLEARLOOP_STORE": "sqlite",
                "CLEARLOOP_DATA_DIR": str(tmp_path),
                **GENEROUS_RATE_LIMITS,
            }
        )
    )
    access = deps.staff_access_service()
    access.add_staff("boss", "Boss", "admin", [])
    token = access.issue_token("boss", days=1).token
    number = deps.submission_service().submit(GOOD).body["number"]
    yield Api(token, number)
    deps.reset()


def assert_400(response: Any) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    error = json.loads(response.get_data())["error"]
    assert set(error) == {"code", "message", "fields"}


@pytest.mark.parametrize("path", ["/v1/staff/tickets", "/v1/staff/export.csv"])
def test_a_cursor_with_non_ascii_text_is_a_400(api: Api, path: str) -> None:
    assert_400(api.send("GET", f"{path}?cursor=%C3%A9.%C3%A9", **api.staff))


@pytest.mark.parametrize("path", ["/v1/staff/tickets", "/v1/staff/export.csv"])
def test_a_limit_in_superscript_digits_is_a_400(api: Api, path: str) -> None:
    assert_400(api.send("GET", f"{path}?limit=%C2%B2", **api.staff))


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"priority": "P1"}),
        ("POST", "/transitions", {"status": "acknowledged"}),
        ("POST", "/publication", {"action": "preview"}),
    ],
)
def test_an_if_match_in_superscript_digits_is_a_400(
    api: Api, method: str, suffix: str, body: Any
) -> None:
    path = f"/v1/staff/tickets/{api.number}{suffix}"
    assert_400(api.send(method, path, body, **{**api.staff, "If-Match": "\u00b2"}))


@pytest.mark.parametrize(
    ("method", "suffix", "body", "headers"),
    [
        ("POST", "/v1/feedback", b'{"\\ud800": 1}', {}),
        ("POST", "/v1/tickets/{n}/messages", b'{"\\ud800": "x"}', {"X-Ticket-Key": "k"}),
        ("PATCH", "/v1/staff/tickets/{n}", b'{"assignee": "\\ud800"}', {"If-Match": "1"}),
    ],
    ids=["feedback-field-name", "message-field-name", "triage-assignee"],
)
def test_lone_surrogates_in_json_are_a_400(
    api: Api, method: str, suffix: str, body: bytes, headers: dict[str, str]
) -> None:
    path = suffix.replace("{n}", api.number)
    auth = api.staff if path.startswith("/v1/staff/") else {}
    assert_400(api.send(method, path, body, **headers, **auth))
