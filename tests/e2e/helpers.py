"""Shared steps for the e2e tests: what a person does on the pages, in Playwright terms."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Locator, Page, Request, expect

# The site is built with this minimum fill time (mkdocs.yml extra.min_fill_seconds, set from
# CLEARLOOP_MIN_FILL_SECONDS by the stack fixture), so tests wait only half a second.
MIN_FILL_SECONDS = 0.5
NUMBER = re.compile(r"^FB-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")
KEY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{32}$")
CSP_MARK = "CSP-VIOLATION"
# Logged by Chromium for every HTTP error response or aborted request, including fetch().
FAILED_LOAD = re.compile(r"^Failed to load resource: ")


def open_feedback_form(page: Page, site_url: str) -> float:
    """Open the form and wait until it is usable; returns when that was (monotonic clock)."""
    page.goto(site_url + "/give-feedback/")
    expect(page.locator("#fb-submit")).to_be_enabled()
    expect(page.get_by_label("Category")).to_be_enabled()
    return time.monotonic()


def wait_until_wired(page: Page, widget: str) -> None:
    """Wait until a widget's module has attached its handlers (``onEachPage`` in api.js marks
    the element): typing into a form before that would submit it natively, not through JS."""
    expect(page.locator(f'[data-clearloop="{widget}"][data-clearloop-wired]')).to_have_count(1)


def open_track(page: Page, site_url: str) -> None:
    """Open the track page and wait until its form is wired."""
    page.goto(site_url + "/track/")
    wait_until_wired(page, "track")


def wait_past_fill_time(ready_at: float) -> None:
    """The one deliberate wait: a submission sooner than the minimum fill time is discarded."""
    remaining = MIN_FILL_SECONDS + 0.1 - (time.monotonic() - ready_at)
    if remaining > 0:
        time.sleep(remaining)


def tab_to(page: Page, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element with ``element_id`` has the focus."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} never received the focus after {limit} Tab presses")


def field_error(page: Page, control_id: str) -> Locator:
    """The error message shown next to a form control."""
    return page.locator(f"#{control_id}-error")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Watch:
    """What one page did: console errors, CSP violations, page errors, requests."""

    allowed_origins: set[str]
    console_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    failed_loads_allowed: bool = False

    def allow_failed_loads(self) -> None:
        """This test provokes HTTP errors on purpose; the browser logs each as a console error."""
        self.failed_loads_allowed = True

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if message.text.startswith(CSP_MARK):
            self.violations.append(message.text)
        else:
            self.console_errors.append(message.text)

    def foreign_requests(self) -> list[str]:
        return [
            r.url
            for r in self.requests
            if urlsplit(r.url).scheme not in {"data", "blob"}
            and origin(r.url) not in self.allowed_origins
        ]

    def api_requests(self, path: str, method: str = "GET") -> list[Request]:
        return [r for r in self.requests if r.method == method and urlsplit(r.url).path == path]

    def problems(self) -> list[str]:
        console = [
            text
            for text in self.console_errors
            if not (self.failed_loads_allowed and FAILED_LOAD.match(text))
        ]
        return (
            [f"CSP violation: {v}" for v in self.violations]
            + [f"console error: {c}" for c in console]
            + [f"uncaught page error: {e}" for e in self.page_errors]
            + [f"request to a foreign host: {u}" for u in self.foreign_requests()]
        )
