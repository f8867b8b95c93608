"""The "Give feedback" form in a real browser against the local API."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    KEY,
    NUMBER,
    Watch,
    field_error,
    open_feedback_form,
    tab_to,
    wait_past_fill_time,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

REQUIRED = {
    "fb-type": "Choose what kind of feedback this is.",
    "fb-category": "Choose a category.",
    "fb-subject": "Enter a subject.",
    "fb-description": "Describe your feedback.",
}


def test_submit_feedback_then_track_it(page: Page, stack: Stack, watch: Watch):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.site_url)
    ready_at = open_feedback_form(page, stack.site_url)
    page.get_by_role("radio", name="Complaint").check()
    page.get_by_label("Category").select_option(label="Waiting times")
    page.get_by_label("Subject").fill("Two-hour queue at the permit desk")
    description = page.get_by_label("Description")
    description.fill("I waited two hours on Monday morning; only one desk was open.")
    expect(page.locator("#fb-description-count")).to_have_text(
        "You have 4,939 characters remaining."
    )
    page.get_by_label("Name").fill("Ana Silva")
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_label("You may contact me").check()
    wait_past_fill_time(ready_at)
    with page.expect_request(lambda r: r.method == "POST") as sent:
        page.get_by_role("button", name="Send feedback").click()

    request = sent.value
    assert request.url == stack.api_url + "/v1/feedback"
    assert request.headers["content-type"] == "application/json"
    assert len(request.headers["idempotency-key"]) >= 16
    assert request.post_data_json == {
        "type": "complaint",
        "category": "service-waiting",
        "subject": "Two-hour queue at the permit desk",
        "description": "I waited two hours on Monday morning; only one desk was open.",
        "consent_to_publish": False,
        "language": "en",
        "contact": {"name": "Ana Silva", "email": "ana@example.org", "consent_to_contact": True},
    }

    heading = page.get_by_role("heading", name="Thank you. Your feedback has been received")
    expect(heading).to_be_focused()
    number = page.locator("#fb-receipt-number").inner_text()
    key = page.locator("#fb-receipt-key").inner_text()
    assert NUMBER.match(number), number
    assert KEY.match(key), key
    expect(page.get_by_text("The private key is shown only once")).to_be_visible()
    expect(page.locator("#fb-form")).to_have_count(0)

    page.get_by_role("button", name="Copy ticket number").click()
    expect(page.get_by_text("Ticket number copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == number

    # Printing shows the receipt alone.
    page.emulate_media(media="print")
    expect(page.locator("#fb-receipt")).to_be_visible()
    expect(page.locator("#fb-receipt-key")).to_be_visible()
    expect(page.locator(".md-header")).to_be_hidden()
    expect(page.get_by_text("All fields are required")).to_be_hidden()
    expect(page.get_by_role("button", name="Print receipt")).to_be_hidden()
    page.emulate_media(media="screen")

    track = page.get_by_role("link", name="Track this ticket")
    assert track.get_attribute("href") == f"{stack.site_url}/track/#number={number}&key={key}"
    track.click()
    expect(page).to_have_url(f"{stack.site_url}/track/#number={number}&key={key}")
    result = page.locator("#tr-result")
    expect(result.get_by_role("heading", name=f"Ticket {number}")).to_be_visible()
    expect(result).to_contain_text("Received: waiting to be looked at")
    expect(result).to_contain_text("Complaint")
    expect(result).to_contain_text("Service: Waiting times")
    expect(result.locator(".cl-timeline li[data-kind=submitted]")).to_contain_text("Submitted")

    lookups = watch.api_requests(f"/v1/tickets/{number}")
    assert lookups
    assert lookups[-1].headers["x-ticket-key"] == key
    assert not [r.url for r in watch.requests if key in r.url], "the key leaked into a URL"


def test_empty_form_shows_every_error_by_its_field_and_in_a_summary(
    page: Page, stack: Stack, watch: Watch
):
    open_feedback_form(page, stack.site_url)
    page.get_by_role("button", name="Send feedback").click()

    summary = page.locator("#fb-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("listitem")).to_have_text(list(REQUIRED.values()))
    for control_id, message in REQUIRED.items():
        expect(field_error(page, control_id)).to_have_text(message)
    for control_id in ("fb-category", "fb-subject", "fb-description"):
        control = page.locator(f"#{control_id}")
        expect(control).to_have_attribute("aria-invalid", "true")
        described = control.get_attribute("aria-describedby") or ""
        assert f"{control_id}-error" in described.split()
    expect(page.locator("#fb-type input").first).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#fb-type")).to_have_attribute("aria-describedby", "fb-type-error")

    # A link in the summary takes the person to the field.
    summary.get_by_role("link", name="Enter a subject.").click()
    expect(page.get_by_label("Subject")).to_be_focused()
    page.get_by_label("Subject").fill("Fixed")
    page.get_by_role("button", name="Send feedback").click()
    expect(field_error(page, "fb-subject")).to_be_hidden()
    expect(page.get_by_label("Subject")).not_to_have_attribute("aria-invalid", "true")
    expect(summary.get_by_role("listitem")).to_have_count(3)
    assert not watch.api_requests("/v1/feedback", "POST")


def test_client_checks_mirror_the_server_limits(page: Page, stack: Stack, watch: Watch):
    open_feedback_form(page, stack.site_url)
    page.get_by_label("Subject").fill("x" * 201)
    page.get_by_label("Description").fill("é" * 5001)
    page.get_by_label("Location").fill("y" * 201)
    page.get_by_label("Name").fill("z" * 101)
    page.get_by_label("Email address").fill("not-an-address")
    page.get_by_label("Phone number").fill("12-34")
    expect(page.locator("#fb-description-count")).to_have_text("You have 1 character too many.")
    page.get_by_role("button", name="Send feedback").click()
    expect(field_error(page, "fb-subject")).to_have_text("Subject must be 200 characters or fewer.")
    expect(field_error(page, "fb-description")).to_have_text(
        "Description must be 5,000 characters or fewer."
    )
    expect(field_error(page, "fb-location")).to_have_text(
        "Location must be 200 characters or fewer."
    )
    expect(field_error(page, "fb-name")).to_have_text("Name must be 100 characters or fewer.")
    expect(field_error(page, "fb-email")).to_contain_text("Enter an email address")
    expect(field_error(page, "fb-phone")).to_contain_text("6 to 20 digits")
    assert not watch.api_requests("/v1/feedback", "POST")


def test_the_whole_flow_by_keyboard_alone(page: Page, stack: Stack, watch: Watch):
    ready_at = open_feedback_form(page, stack.site_url)
    keyboard = page.keyboard
    # An empty submission first: Enter on the button, then follow the first error link.
    tab_to(page, "fb-submit")
    keyboard.press("Enter")
    expect(page.locator("#fb-summary")).to_be_focused()
    keyboard.press("Tab")
    keyboard.press("Enter")
    expect(page.locator("#fb-type-complaint")).to_be_focused()

    keyboard.press("Space")  # type: the first choice, "Complaint"
    expect(page.locator("#fb-type-complaint")).to_be_checked()
    keyboard.press("Tab")
    expect(page.get_by_label("Category")).to_be_focused()
    keyboard.type("Waiting")  # type-ahead selects "Waiting times"
    expect(page.get_by_label("Category")).to_have_value("service-waiting")
    keyboard.press("Tab")
    keyboard.type("Queue by keyboard")
    keyboard.press("Tab")
    keyboard.type("Typed without a mouse.")
    tab_to(page, "fb-consent-publish")
    keyboard.press("Space")
    keyboard.press("Tab")  # the honeypot is skipped (tabindex -1)
    expect(page.locator("#fb-submit")).to_be_focused()
    wait_past_fill_time(ready_at)
    keyboard.press("Enter")

    heading = page.get_by_role("heading", name="Thank you. Your feedback has been received")
    expect(heading).to_be_focused()
    number = page.locator("#fb-receipt-number").inner_text()
    tab_to(page, "fb-track-link")
    keyboard.press("Enter")
    result = page.locator("#tr-result")
    expect(result.get_by_role("heading", name=f"Ticket {number}")).to_be_visible()
    expect(result.locator(".cl-timeline li[data-kind=submitted]")).to_be_visible()
    sent = watch.api_requests("/v1/feedback", "POST")
    assert len(sent) == 1
    assert sent[0].post_data_json["consent_to_publish"] is True
    assert "contact" not in sent[0].post_data_json


def fill_valid(page: Page) -> None:
    page.get_by_role("radio", name="Suggestion").check()
    page.get_by_label("Category").select_option("other")
    page.get_by_label("Subject").fill("More benches")
    page.get_by_label("Description").fill("Please add benches by the bus stop.")


def test_honeypot_submission_is_discarded_silently(page: Page, stack: Stack, watch: Watch):
    ready_at = open_feedback_form(page, stack.site_url)
    fill_valid(page)
    page.locator("#fb-website").fill("http://spam.example")
    wait_past_fill_time(ready_at)
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", name="Thank you for your feedback.")).to_be_focused()
    assert not watch.api_requests("/v1/feedback", "POST")


def test_too_fast_submission_is_discarded_silently(page: Page, stack: Stack, watch: Watch):
    open_feedback_form(page, stack.site_url)
    # As if the site were built with a one-hour minimum: any submission now is "too fast".
    page.evaluate(
        "document.querySelector('meta[name=clearloop-min-fill-seconds]').content = '3600'"
    )
    fill_valid(page)
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", name="Thank you for your feedback.")).to_be_visible()
    assert not watch.api_requests("/v1/feedback", "POST")


def test_server_field_errors_are_shown_by_their_fields(page: Page, stack: Stack, watch: Watch):
    watch.allow_failed_loads()  # the 400 is the point
    ready_at = open_feedback_form(page, stack.site_url)
    fill_valid(page)
    # A category the server does not know: only the server can reject it.
    page.get_by_label("Category").evaluate(
        "(select) => { select.add(new Option('Retired', 'retired-code')); "
        "select.value = 'retired-code'; }"
    )
    wait_past_fill_time(ready_at)
    page.get_by_role("button", name="Send feedback").click()
    error = field_error(page, "fb-category")
    expect(error).to_contain_text("Category is not a known category")
    expect(page.get_by_label("Category")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#fb-summary")).to_be_focused()
    expect(page.locator("#fb-summary li")).to_have_text([error.inner_text()])

    # Corrected and sent again: a new submission, so a new Idempotency-Key.
    page.get_by_label("Category").select_option("other")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#fb-receipt")).to_be_visible()
    keys = [r.headers["idempotency-key"] for r in watch.api_requests("/v1/feedback", "POST")]
    assert len(keys) == 2
    assert keys[0] != keys[1]


def test_unreachable_api_is_explained_and_retry_reuses_the_key(
    page: Page, stack: Stack, watch: Watch
):
    watch.allow_failed_loads()  # the aborted requests are the point
    page.route(stack.api_url + "/v1/categories", lambda route: route.abort())
    page.goto(stack.site_url + "/give-feedback/")
    expect(page.locator("#fb-submit")).to_be_enabled()
    ready_at = time.monotonic()
    expect(field_error(page, "fb-category")).to_contain_text("could not be loaded")
    page.unroute(stack.api_url + "/v1/categories")
    page.get_by_role("button", name="Try loading the categories again").click()
    expect(page.get_by_label("Category")).to_be_enabled()
    expect(page.get_by_label("Category")).to_be_focused()
    expect(field_error(page, "fb-category")).to_be_hidden()

    fill_valid(page)
    wait_past_fill_time(ready_at)
    page.route(stack.api_url + "/v1/feedback", lambda route: route.abort())
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#fb-summary")).to_contain_text("cannot be reached")
    page.unroute(stack.api_url + "/v1/feedback")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#fb-receipt")).to_be_visible()
    keys = [r.headers["idempotency-key"] for r in watch.api_requests("/v1/feedback", "POST")]
    assert len(keys) == 2
    assert keys[0] == keys[1], "a retry of the same answers must reuse the Idempotency-Key"
