"""Every public page loads under the production CSP with no errors and no third-party request."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Watch
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

PAGES = {
    "/": "Tell us. Follow it. See what changed.",
    "/give-feedback/": "Give feedback",
    "/track/": "Track a ticket",
    "/privacy/": "Privacy notice",
    "/how-it-works/": "How it works",
    "/open-data/": "Open data",
    "/zh/": "您反映，我们办，结果看得见",
    "/zh/give-feedback/": "意见反馈",
    "/zh/track/": "查询进度",
    "/zh/privacy/": "隐私声明",
    "/zh/how-it-works/": "办理流程",
    "/zh/open-data/": "开放数据",
    # Operator pages have no Chinese twin: the English text under /zh/ (architecture.md).
    "/zh/operations/": "Operations guide",
}


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_cleanly_under_the_csp(page: Page, stack: Stack, watch: Watch, path: str):
    response = page.goto(stack.site_url + path)
    assert response is not None
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    # Without the production policy this test would prove nothing.
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    expect(page.locator("h1")).to_have_text(PAGES[path])
    assert page.evaluate("document.querySelector('meta[name=clearloop-api]').content") == (
        stack.api_url
    )
    assert page.evaluate("document.documentElement.lang") == ("zh" if "/zh/" in path else "en")
    if path == "/give-feedback/":
        expect(page.get_by_label("Category")).to_be_enabled()
    if path == "/zh/give-feedback/":
        expect(page.get_by_label("类别")).to_be_enabled()
    page.wait_for_load_state("networkidle")
    # The watch fixture fails the test on any console error, CSP violation or foreign request.


def test_navigation_starts_the_widgets(page: Page, stack: Stack, watch: Watch):
    # Full page loads (no instant navigation: a switch of language must reload <html lang>).
    page.goto(stack.site_url + "/")
    page.get_by_role("link", name="Give feedback").first.click()
    expect(page).to_have_url(stack.site_url + "/give-feedback/")
    expect(page.get_by_label("Category")).to_be_enabled()
    expect(page.locator("#fb-submit")).to_be_enabled()
    page.get_by_role("link", name="Track a ticket").first.click()
    expect(page).to_have_url(stack.site_url + "/track/")
    expect(page.locator("#tr-submit")).to_be_enabled()
    page.goto(stack.site_url + "/zh/")
    page.get_by_role("link", name="我要反馈").first.click()
    expect(page).to_have_url(stack.site_url + "/zh/give-feedback/")
    expect(page.get_by_label("类别")).to_be_enabled()


def test_search_works_under_the_csp(page: Page, stack: Stack, watch: Watch):
    # The search worker (a script from the site) fetches the index and answers queries.
    with page.expect_response(lambda r: r.url.endswith("/search/search_index.json")):
        page.goto(stack.site_url + "/")
    page.get_by_role("textbox", name="Search").press_sequentially("cookies")
    first = page.locator(".md-search-result__item").first
    expect(first).to_contain_text("Privacy")


class _InlineScripts(HTMLParser):
    """Collects <script> elements without src that a browser would execute."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind = (values.get("type") or "text/javascript").lower()
        self._inline = tag == "script" and "src" not in values and kind != "application/json"
        if tag == "script" and self._inline:
            self.found.append(str(values))
        styled = values.get("style")
        if styled is not None:
            self.found.append(f"<{tag} style={styled!r}>")
        if tag == "style":
            self.found.append("<style>")
        if any(name.startswith("on") for name in values):
            self.found.append(f"<{tag}> with an inline event handler")


def test_built_pages_contain_no_inline_script_or_style(stack: Stack, site_dir: Path):
    pages = sorted(site_dir.rglob("*.html"))
    assert len(pages) >= len(PAGES) + 1  # the pages plus 404.html
    for html in pages:
        parser = _InlineScripts()
        parser.feed(html.read_text(encoding="utf-8"))
        assert not parser.found, f"{html.relative_to(site_dir)}: {parser.found}"
