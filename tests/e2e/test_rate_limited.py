"""The site when the API's per-client limits refuse a request: a clear message with the wait.

A stack of its own with tight limits (one submission and one wrong key a day): every local
client is 127.0.0.1 to ``chalice local``, so the browser and this test share one allowance. The
429 and its ``Retry-After`` come from the real API, through CORS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import MIN_FILL_SECONDS, Watch, open_feedback_form, wait_past_fill_time
from tests.support.stack import Stack, http_request, running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, site_dir: Path) -> Iterator[Stack]:
    env = {
        "CLEARLOOP_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS),
        "CLEARLOOP_RATE_SUBMIT": "1/1d",
        "CLEARLOOP_RATE_KEY_FAILURE": "1/1d",
    }
    with running_stack(tmp_path_factory.mktemp("e2e-data"), site_dir=site_dir, env=env) as s:
        yield s


@pytest.fixture(scope="module")
def ticket(stack: Stack) -> dict[str, str]:
    """The one submission the day allows, made through the API."""
    response = http_request(
        "POST",
        stack.api_url + "/v1/feedback",
        body={
            "type": "inquiry",
            "category": "process-fees",
            "subject": "Fee for a replacement card",
            "description": "How much does a replacement card cost?",
        },
    )
    assert response.status == 201, response.text
    created: dict[str, str] = response.json()
    return created


def test_the_form_explains_a_429_with_the_wait_and_keeps_the_answers(
    page: Page, stack: Stack, watch: Watch, ticket: dict[str, str]
) -> None:
    watch.allow_failed_loads()  # the API's 429 is the point
    ready_at = open_feedback_form(page, stack.site_url)
    page.get_by_role("radio", name="Complaint").check()
    page.get_by_label("Category").select_option(label="Waiting times")
    page.get_by_label("Subject").fill("A second complaint the same day")
    page.get_by_label("Description").fill("The desk was closed again.")
    wait_past_fill_time(ready_at)
    with page.expect_response(stack.api_url + "/v1/feedback") as answered:
        page.get_by_role("button", name="Send feedback").click()
    assert answered.value.status == 429
    alert = page.locator("#fb-summary")
    expect(alert).to_contain_text("Too many submissions have come from your connection recently")
    expect(alert).to_contain_text(re.compile(r"Wait (\d+ seconds|1 minute|\d+ minutes), then"))
    expect(page.get_by_label("Subject")).to_have_value("A second complaint the same day")


def test_track_explains_the_lock_after_a_wrong_key(
    page: Page, stack: Stack, watch: Watch, ticket: dict[str, str]
) -> None:
    watch.allow_failed_loads()  # the API's 403 and 429 are the point
    number, key = ticket["number"], ticket["key"]
    wrong = http_request(
        "GET", f"{stack.api_url}/v1/tickets/{number}", headers={"X-Ticket-Key": "0" * 32}
    )
    assert wrong.status == 403, wrong.text
    # The right key now: refused until the day is over, and the page says how long to wait.
    page.goto(f"{stack.site_url}/track/#number={number}&key={key}")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many lookups or wrong keys")
    expect(alert).to_contain_text(re.compile(r"Try again in (\d+ seconds|1 minute|\d+ minutes)\."))
    expect(page.locator("#tr-result")).to_be_hidden()
