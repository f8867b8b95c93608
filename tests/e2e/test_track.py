"""The "Track a ticket" page: fragment lookups and every error a person can run into."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from chalicelib.domain.numbers import ALPHABET, format_number
from tests.e2e.helpers import Watch, open_track
from tests.support.stack import Stack, http_request

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ticket(stack: Stack) -> dict[str, str]:
    """A ticket created through the API, as another client would."""
    response = http_request(
        "POST",
        stack.api_url + "/v1/feedback",
        body={
            "type": "inquiry",
            "category": "process-fees",
            "subject": "Fee for a replacement card",
            "description": "How much does a replacement card cost?",
            "consent_to_publish": False,
            "language": "en",
        },
    )
    assert response.status == 201, response.text
    created: dict[str, str] = response.json()
    return created


def mistyped(number: str) -> str:
    """``number`` with its last symbol changed, so the check symbol no longer matches."""
    last = number[-1]
    return number[:-1] + ALPHABET[(ALPHABET.index(last) + 1) % len(ALPHABET)]


def test_mistyped_number_shows_the_invalid_number_message(page: Page, stack: Stack, watch: Watch):
    watch.allow_failed_loads()  # the API's 400 is the point
    open_track(page, stack.site_url)
    page.get_by_label("Ticket number").fill(mistyped(format_number(os.urandom(6), "FB")))
    page.get_by_label("Ticket number").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("That is not a valid ticket number")
    expect(page.get_by_label("Ticket number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#tr-result")).to_be_hidden()


def test_unknown_number_shows_not_found(page: Page, stack: Stack, watch: Watch):
    watch.allow_failed_loads()  # the API's 404 is the point
    unknown = format_number(os.urandom(6), "FB").lower().replace("-", "")
    page.goto(f"{stack.site_url}/track/#number={unknown}")
    expect(page.get_by_role("alert")).to_contain_text("There is no ticket with that number")


def test_number_alone_shows_the_status_without_the_history(
    page: Page, stack: Stack, watch: Watch, ticket: dict[str, str]
):
    open_track(page, stack.site_url)
    page.get_by_label("Ticket number").fill(ticket["number"].lower())
    page.get_by_role("button", name="Look up ticket").click()
    result = page.locator("#tr-result")
    expect(result.get_by_role("heading", name=f"Ticket {ticket['number']}")).to_be_focused()
    expect(result).to_contain_text("Question")
    expect(result).to_contain_text("Process: Fees and payments")
    expect(result).to_contain_text("Enter the private key")
    expect(result.locator(".cl-timeline")).to_have_count(0)
    # The number (never a typed key) is kept in the fragment, so the page can be bookmarked.
    expect(page).to_have_url(f"{stack.site_url}/track/#number={ticket['number']}")
    lookup = watch.api_requests(f"/v1/tickets/{ticket['number']}")[-1]
    assert "x-ticket-key" not in lookup.headers


def test_wrong_key_then_right_key_from_the_fragment(
    page: Page, stack: Stack, watch: Watch, ticket: dict[str, str]
):
    watch.allow_failed_loads()  # the API's 403 is the point
    wrong = "0" * 32
    page.goto(f"{stack.site_url}/track/#number={ticket['number']}&key={wrong}")
    expect(page.get_by_role("alert")).to_contain_text("The private key does not match")
    expect(page.get_by_label("Private key")).to_have_value(wrong)

    # Changing the fragment (as a bookmark or the receipt link would) looks the ticket up again.
    page.evaluate(f"location.hash = 'number={ticket['number']}&key={ticket['key']}'")
    result = page.locator("#tr-result")
    expect(result.locator(".cl-timeline li[data-kind=submitted]")).to_contain_text("Submitted")
    expect(page.get_by_role("alert")).to_be_hidden()
    keys = [
        r.headers.get("x-ticket-key") for r in watch.api_requests(f"/v1/tickets/{ticket['number']}")
    ]
    assert keys == [wrong, ticket["key"]]
    assert not [r.url for r in watch.requests if ticket["key"] in r.url]


def test_unreachable_api_is_explained(page: Page, stack: Stack, watch: Watch):
    watch.allow_failed_loads()  # the aborted request is the point
    page.route(stack.api_url + "/v1/tickets/**", lambda route: route.abort())
    open_track(page, stack.site_url)
    page.get_by_label("Ticket number").fill(format_number(os.urandom(6), "FB"))
    page.get_by_role("button", name="Look up ticket").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be reached")


def test_empty_number_is_explained(page: Page, stack: Stack, watch: Watch):
    open_track(page, stack.site_url)
    page.get_by_role("button", name="Look up ticket").click()
    expect(page.locator("#tr-number-error")).to_have_text("Enter your ticket number.")
    expect(page.get_by_label("Ticket number")).to_be_focused()
    assert not [r for r in watch.requests if "/v1/tickets/" in r.url]
