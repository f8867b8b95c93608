"""The published transparency page and resolved-issue board in Chromium, under the site's CSP.

A ticket carrying script, an ``onerror`` image, a ``javascript:`` link and template syntax in every
text field is resolved, approved by a supervisor and published (``clearloop publish`` into the
module's built site, as the runner's hourly job does). The pages must run nothing, evaluate no
template (no ``49``) and show the text literally; they must also look like the site (its
stylesheets load) and be reachable from the site's navigation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.helpers import Watch
from tests.support.stack import REPO_ROOT, Stack, http_request

pytestmark = pytest.mark.e2e

PAYLOAD = (
    "<script>window.xssFired = 'script'</script>"
    "<img src=x onerror=\"window.xssFired = 'img'\">"
    "<a href=\"javascript:window.xssFired = 'link'\">click</a> {{ 7*7 }} ${7*7} #{7*7}"
)


def clearloop(stack: Stack, *args: str) -> str:
    """The operator CLI against the module's stack (found through ``stack.json``)."""
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        env={**os.environ, "CLEARLOOP_DATA_DIR": str(stack.data_dir)},
        cwd=REPO_ROOT / "api",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"clearloop {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def staff_call(
    stack: Stack, token: str, method: str, path: str, body: Any = None, **headers: str
) -> Any:
    response = http_request(
        method,
        stack.api_url + path,
        body=body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )
    assert response.status < 300, f"{method} {path}: {response.status} {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def published(stack: Stack, site_dir: Path) -> dict[str, Any]:
    """The payload ticket, resolved, rated, approved and published; returns its number."""
    clearloop(
        stack,
        "staff",
        "add",
        "pub-sue",
        "--name",
        "Sue Planted",
        "--role",
        "supervisor",
        "--department",
        "customer-service",
    )
    token = clearloop(stack, "token", "issue", "pub-sue", "--quiet")
    response = http_request(
        "POST",
        stack.api_url + "/v1/feedback",
        body={
            "type": "complaint",
            "category": "service-waiting",
            "subject": PAYLOAD[:200],
            "description": PAYLOAD,
            "location": PAYLOAD[:200],
            "contact": {"name": "<b onmouseover=alert(1)>Zed</b>", "consent_to_contact": False},
            "consent_to_publish": True,
            "language": "en",
        },
    )
    assert response.status == 201, response.text
    created = response.json()
    number = created["number"]
    path = f"/v1/staff/tickets/{number}"
    view = staff_call(stack, token, "GET", path)
    staff_call(
        stack,
        token,
        "PATCH",
        path,
        {"public_summary": PAYLOAD},
        **{"If-Match": str(view["version"])},
    )
    staff_call(stack, token, "POST", path + "/replies", {"public": True, "text": PAYLOAD})
    staff_call(stack, token, "POST", path + "/replies", {"public": False, "text": PAYLOAD})
    for status in ("acknowledged", "in_progress"):
        staff_call(stack, token, "POST", path + "/transitions", {"status": status})
    staff_call(stack, token, "POST", path + "/transitions", {"status": "resolved", "text": PAYLOAD})
    rated = http_request(
        "POST",
        f"{stack.api_url}{'/v1/tickets/'}{number}/rating",
        body={"score": 5, "comment": PAYLOAD},
        headers={"X-Ticket-Key": created["key"]},
    )
    assert rated.status == 201, rated.text
    approved = staff_call(stack, token, "POST", path + "/publication", {"action": "approve"})
    assert approved["publication"]["on_board"] is True
    output = clearloop(stack, "publish", "--site-dir", str(site_dir))
    assert "1 board items" in output
    return {"number": number, "board_id": approved["publication"]["board_id"]}


def _guard(page: Page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def _nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("window.xssFired") is None
    assert dialogs == []
    assert page.locator("script").count() == 0
    assert page.locator("article img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("[onerror], [onmouseover], [style]").count() == 0


def test_the_item_page_shows_the_payload_as_text(
    page: Page, stack: Stack, watch: Watch, published: dict[str, Any]
) -> None:
    dialogs = _guard(page)
    response = page.goto(f"{stack.site_url}/board/items/{published['board_id']}/")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text("Resolved issue: Service: Waiting times")
    # The ticket number would open the status view with the unredacted text: never shown.
    assert published["number"] not in page.content()
    texts = page.locator(".cl-pub-text")
    expect(texts.first).to_contain_text("<script>window.xssFired = 'script'</script>")
    expect(texts.first).to_contain_text("{{ 7*7 }} ${7*7} #{7*7}")
    expect(texts.nth(1)).to_contain_text("<img src=x onerror=")
    for text in texts.all_inner_texts():  # the person's words: no template was evaluated
        assert "49" not in text
    page.wait_for_load_state("networkidle")
    _nothing_ran(page, dialogs)
    # The site's own stylesheets loaded (Material's header is sticky, publish.css lays out facts).
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('.cl-facts')).display") == "grid"


@pytest.mark.parametrize("path", ["/board/", "/transparency/", "/board/category/service/"])
def test_listing_pages_load_cleanly(
    page: Page, stack: Stack, watch: Watch, published: dict[str, Any], path: str
) -> None:
    dialogs = _guard(page)
    response = page.goto(stack.site_url + path)
    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    _nothing_ran(page, dialogs)
    body = page.locator("article").inner_text()
    for text in page.locator(".cl-board__item").all_inner_texts():
        assert "49" not in text
    assert published["number"] not in page.content()
    assert "Generated at" in body
    if path.startswith("/board/"):
        link = page.locator(".cl-board__title a").first
        expect(link).to_contain_text("<script>window.xssFired")
        link.click()
        expect(page).to_have_url(f"{stack.site_url}/board/items/{published['board_id']}/")
        _nothing_ran(page, dialogs)


def test_transparency_page_has_charts_with_tables_and_explanations(
    page: Page, stack: Stack, watch: Watch, published: dict[str, Any]
) -> None:
    page.goto(stack.site_url + "/transparency/")
    expect(page.locator("h1")).to_have_text("Transparency")
    charts = page.get_by_role("img")
    assert charts.count() >= 2
    expect(page.locator("svg title").first).to_contain_text(
        "Feedback received and resolved per day"
    )
    page.get_by_text("Data table: new, resolved and open per day").click()
    expect(page.locator("details.cl-data table tbody tr")).to_have_count(30)
    expect(
        page.get_by_text("plus the tickets still waiting for one past their deadline")
    ).to_be_visible()
    expect(page.locator(".cl-headline")).to_contain_text("On-time first response")
    for link in ("metrics.json", "metrics.csv", "board.json"):
        href = page.get_by_role("link", name=link).get_attribute("href")
        assert href is not None
        assert http_request("GET", stack.site_url + "/transparency/" + href).status == 200


def test_the_site_navigation_leads_to_the_published_pages(
    page: Page, stack: Stack, watch: Watch, published: dict[str, Any]
) -> None:
    page.goto(stack.site_url + "/")
    page.get_by_role("link", name="Transparency").first.click()
    expect(page).to_have_url(stack.site_url + "/transparency/")
    expect(page.locator("h1")).to_have_text("Transparency")
    page.get_by_role("link", name="Resolved issues").first.click()
    expect(page).to_have_url(stack.site_url + "/board/")
    expect(page.locator("h1")).to_have_text("Resolved issues")
    page.get_by_role("link", name="Home").first.click()
    expect(page).to_have_url(stack.site_url + "/")
    page.get_by_role("link", name="Open data").first.click()
    expect(page.locator("h1")).to_have_text("Open data")


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/zh/transparency/", "办理情况公开"),
        ("/zh/board/", "已办结事项"),
        ("/zh/board/category/service/", "已办结事项：服务"),
        ("/zh/board/items/{board_id}/", "已办结事项：服务：等候时间"),
    ],
)
def test_the_chinese_pages_load_cleanly_in_chinese(
    page: Page,
    stack: Stack,
    watch: Watch,
    published: dict[str, Any],
    path: str,
    heading: str,
) -> None:
    dialogs = _guard(page)
    response = page.goto(stack.site_url + path.format(board_id=published["board_id"]))
    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    _nothing_ran(page, dialogs)
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.locator("h1")).to_have_text(heading)
    body = page.locator("article").inner_text()
    assert "生成时间" in body
    assert "Generated at" not in body
    assert published["number"] not in page.content()
    # The site's stylesheets loaded, as on every site page.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"
    )
    expect(page.locator(".cl-pub-nav")).to_contain_text("查询进度")
    if "/items/" in path:
        # Staff wrote the text in English: it is published as written, and escaped.
        expect(page.locator(".cl-pub-text").first).to_contain_text("<script>window.xssFired")
        expect(page.locator(".cl-facts")).to_contain_text("客户服务部")
        expect(page.locator(".cl-facts")).to_contain_text("年")  # Babel's Chinese dates


def test_the_chinese_transparency_page_has_chinese_charts_and_formats(
    page: Page, stack: Stack, watch: Watch, published: dict[str, Any]
) -> None:
    page.goto(stack.site_url + "/zh/transparency/")
    expect(page.locator("svg title").first).to_contain_text("最近 30 天每天收到和办结的意见反馈")
    page.get_by_text("数据表：每天新收到、办结和未办结数量").click()
    expect(page.locator("details.cl-data table tbody tr")).to_have_count(30)
    expect(page.locator("details.cl-data table tbody th").first).to_contain_text("月")
    expect(page.locator(".cl-headline")).to_contain_text("首次答复按时率")
    expect(page.locator(".cl-headline__value").first).to_have_text(re.compile(r"^(—|[\d.]+%)$"))
    for name in ("metrics.zh.csv", "board.zh.csv"):
        href = page.get_by_role("link", name=name).get_attribute("href")
        assert href is not None
        response = http_request("GET", stack.site_url + "/zh/transparency/" + href)
        assert response.status == 200
        assert response.text.startswith(("时段,", "编号,")), name


@pytest.mark.parametrize(
    ("start", "switch_to", "target", "heading"),
    [
        ("/board/items/{board_id}/", "简体中文", "/zh/board/items/{board_id}/", "已办结事项"),
        ("/zh/transparency/", "English", "/transparency/", "Transparency"),
        ("/zh/board/category/service/", "English", "/board/category/service/", "Resolved"),
    ],
)
def test_the_language_switcher_keeps_the_published_page(
    page: Page,
    stack: Stack,
    watch: Watch,
    published: dict[str, Any],
    start: str,
    switch_to: str,
    target: str,
    heading: str,
) -> None:
    board_id = published["board_id"]
    page.goto(stack.site_url + start.format(board_id=board_id))
    page.locator(".md-header .md-select").first.hover()
    page.locator(".md-select__link", has_text=switch_to).first.click()
    expect(page).to_have_url(stack.site_url + target.format(board_id=board_id))
    expect(page.locator("h1")).to_contain_text(heading)


def test_the_chinese_site_navigation_leads_to_the_chinese_published_pages(
    page: Page, stack: Stack, watch: Watch, published: dict[str, Any]
) -> None:
    page.goto(stack.site_url + "/zh/")
    page.get_by_role("link", name="办理情况公开").first.click()
    expect(page).to_have_url(stack.site_url + "/zh/transparency/")
    expect(page.locator("h1")).to_have_text("办理情况公开")
    page.get_by_role("link", name="已办结事项").first.click()
    expect(page).to_have_url(stack.site_url + "/zh/board/")
    page.get_by_role("link", name="首页").first.click()
    expect(page).to_have_url(stack.site_url + "/zh/")
