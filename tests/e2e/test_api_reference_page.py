"""The API reference page (rendered at build time from api/openapi.json) and the document itself,
served by the site under the production CSP; and every page of the built site loads cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Watch
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
OPERATIONS = {
    "op-submitfeedback": "POST /v1/feedback",
    "op-getticket": "GET /v1/tickets/{number}",
    "op-rateticket": "POST /v1/tickets/{number}/rating",
    "op-triageticket": "PATCH /v1/staff/tickets/{number}",
    "op-publishticket": "POST /v1/staff/tickets/{number}/publication",
    "op-exportcsv": "GET /v1/staff/export.csv",
}


def test_reference_page_lists_the_operations_under_the_csp(
    page: Page, stack: Stack, watch: Watch
) -> None:
    response = page.goto(stack.site_url + "/reference/api/")
    assert response is not None
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    expect(page.locator("h1")).to_have_text("API reference")
    for anchor, title in OPERATIONS.items():
        expect(page.locator(f"#{anchor}")).to_contain_text(title)
    # The summary table links to each operation on the same page.
    page.get_by_role("link", name="/v1/feedback", exact=True).click()
    expect(page).to_have_url(stack.site_url + "/reference/api/#op-submitfeedback")
    # Errors, retry headers and auth are spelled out where a reader needs them.
    # (Material wraps each table in a scroll container: the next tables follow the heading.)
    responses = page.locator("xpath=//h3[@id='op-submitfeedback']/following::table[2]")
    expect(responses).to_contain_text("Retry-After")
    expect(responses).to_contain_text("Idempotent-Replayed")
    expect(page.locator("#schema-error")).to_be_attached()
    expect(page.get_by_text("Needs a staff bearer token.").first).to_be_visible()
    page.wait_for_load_state("networkidle")


def test_the_document_is_served_as_json_next_to_the_page(
    page: Page, stack: Stack, watch: Watch
) -> None:
    page.goto(stack.site_url + "/reference/api/")
    link = page.get_by_role("link", name="OpenAPI 3.1 document")
    expect(link).to_have_attribute("href", re.compile(r"(^\.\./|/reference/)openapi\.json$"))
    served = page.request.get(stack.site_url + "/reference/openapi.json")
    assert served.status == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == json.loads((REPO / "api" / "openapi.json").read_text("utf-8"))


def test_the_reference_is_in_the_navigation(page: Page, stack: Stack, watch: Watch) -> None:
    page.goto(stack.site_url + "/")
    page.get_by_role("link", name="API reference").first.click()
    expect(page).to_have_url(stack.site_url + "/reference/api/")
    expect(page.locator("#op-getticket")).to_be_visible()


def test_every_built_page_loads_without_csp_violations(
    page: Page, stack: Stack, watch: Watch, site_dir: Path
) -> None:
    """Extends test_pages.py (which checks the public pages' content) to every page built,
    staff console and reference included: the watch fails the test on any CSP violation,
    console error, page error or third-party request."""
    pages = sorted(
        "/" + str(p.parent.relative_to(site_dir)).replace(".", "").strip("/") + "/"
        for p in site_dir.rglob("index.html")
        if "search" not in p.parts
    )
    pages = [p.replace("//", "/") for p in pages]
    assert "/reference/api/" in pages, pages
    assert len(pages) >= 6, pages
    for path in pages:
        response = page.goto(stack.site_url + path)
        assert response is not None
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
