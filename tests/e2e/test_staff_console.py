"""The staff console (/staff/) in Chromium against the local stack.

Staff members and their tokens are made with the operator CLI (``clearloop staff add`` and
``clearloop token issue --quiet``), which finds the module's running stack through
``<data dir>/stack.json``. Each step checks what the person sees on the page and what the API
returns afterwards. Screenshots for review go to ``build/screenshots/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import _REPORT_VIOLATIONS  # the same CSP reporter as the watch fixture
from tests.e2e.helpers import KEY, NUMBER, Watch, origin
from tests.support.stack import REPO_ROOT, Stack, http_request

pytestmark = pytest.mark.e2e

SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
TOKEN_KEY = "clearloop-staff-token"
# Our own JS and CSS on one page (Material's bundle is under assets/javascripts|stylesheets).
OWN_ASSETS = ("/assets/js/", "/assets/css/")
PAGE_BUDGET_BYTES = 30_000  # "30 KB", read strictly (not 30 KiB)
STAFF_PAGES = {
    "/staff/": "Staff console",
    "/staff/ticket/": "Ticket",
    "/staff/triage/": "Triage",
    "/staff/intake/": "Record offline feedback",
    "/staff/publication/": "Publication approval",
}
CANNED_TITLE = "Thanks, we are on it"
CANNED_TEXT = "Thank you for {number}. The {department} team is looking into it."


# --- operator CLI and API -----------------------------------------------------------------------


def clearloop(stack: Stack, *args: str) -> str:
    """Run the operator CLI against the module's stack and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        env={**os.environ, "CLEARLOOP_DATA_DIR": str(stack.data_dir)},
        cwd=REPO_ROOT / "api",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"clearloop {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def add_staff(stack: Stack, staff_id: str, name: str, role: str, department: str) -> str:
    """Create a staff member and return a fresh bearer token for them."""
    clearloop(
        stack, "staff", "add", staff_id, "--name", name, "--role", role, "--department", department
    )
    return clearloop(stack, "token", "issue", staff_id, "--quiet")


def api(stack: Stack, token: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
    """Call the staff API as the holder of ``token``; returns the parsed JSON body."""
    response = http_request(
        method,
        stack.api_url + path,
        body=body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )
    assert response.status < 300, f"{method} {path}: {response.status} {response.text}"
    return response.json()


def submit(stack: Stack, **fields: Any) -> dict[str, Any]:
    """A ticket from the public form's API, as any member of the public sends it."""
    body = {
        "type": "complaint",
        "category": "service-waiting",
        "subject": "Long queue at counter 3",
        "description": "I waited two hours at counter 3 on Monday.",
        "consent_to_publish": True,
        **fields,
    }
    response = http_request("POST", stack.api_url + "/v1/feedback", body=body)
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def public_view(stack: Stack, ticket: dict[str, Any]) -> dict[str, Any]:
    """What the submitter sees with their number and key."""
    response = http_request(
        "GET",
        f"{stack.api_url}/v1/tickets/{ticket['number']}",
        headers={"X-Ticket-Key": ticket["key"]},
    )
    assert response.status == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def span(seconds: float) -> str:
    """The console's duration words (staff-core.js span): whole minutes, half rounded up."""
    minutes = int(abs(seconds) / 60 + 0.5)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min" if minutes else "under 1 min"


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- browser steps --------------------------------------------------------------------------------


def watch_page(page: Page, stack: Stack) -> Watch:
    """The watch fixture's checks for a page of another browser context."""
    seen = Watch(allowed_origins={origin(stack.site_url), origin(stack.api_url)})
    page.add_init_script(_REPORT_VIOLATIONS)
    page.on("console", seen.on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request))  # noqa: PLW0108
    return seen


def sign_in(page: Page, stack: Stack, token: str, name: str, path: str = "/staff/") -> None:
    page.goto(stack.site_url + path)
    page.get_by_label("Staff token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#ss-name")).to_have_text(name)
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == token


def open_ticket(page: Page, stack: Stack, number: str) -> None:
    url = f"{stack.site_url}/staff/ticket/#{number}"
    if page.url == url:
        page.reload()  # the same address: going there again would not load the ticket again
    else:
        page.goto(url)
    expect(page.locator("#st-title")).to_contain_text(number)


def move(page: Page, button: str, text: str = "") -> None:
    """Press a status button, fill the text it asks for, confirm."""
    page.locator("#st-transitions").get_by_role("button", name=button, exact=True).click()
    if text:
        page.locator("#st-move-text").fill(text)
    page.locator("#st-move").get_by_role("button", name=button, exact=True).click()


def triage(page: Page, values: dict[str, str]) -> None:
    """Set triage fields by their labels (selects by value), then save."""
    for label, value in values.items():
        control = page.get_by_label(label)
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    page.get_by_role("button", name="Save triage").click()


def transition_buttons(page: Page) -> list[str]:
    targets: list[str] = page.locator("#st-transitions button:visible").evaluate_all(
        "buttons => buttons.map(b => b.dataset.target)"
    )
    return targets


def own_asset_bytes(watch: Watch) -> dict[str, int]:
    """Bytes of each of our own JS and CSS files the page loaded."""
    sizes = {}
    for request in watch.requests:
        path = urlsplit(request.url).path
        response = request.response()
        if path.startswith(OWN_ASSETS) and response is not None and response.ok:
            sizes[path] = len(response.body())
    return sizes


def overflowing(page: Page) -> list[str]:
    """Visible elements reaching past the right edge of the viewport (scrollers excepted)."""
    found: list[str] = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width) out.push('document ' + document.documentElement.scrollWidth);
          for (const el of document.querySelectorAll('.md-main *')) {
            const box = el.getBoundingClientRect();
            if (!box.width || box.right <= width + 0.5) continue;
            if (el.closest('.cl-scroll, .md-typeset__scrollwrap')) continue;
            out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} right=${box.right}`);
          }
          return out;
        }"""
    )
    return found


def screenshot(page: Page, name: str) -> None:
    """A full-page screenshot for review, from the top (where the sticky header belongs)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crew(stack: Stack) -> dict[str, str]:
    """Tokens: a supervisor and an agent of customer service, a supervisor of facilities."""
    tokens = {
        "sue": add_staff(stack, "sue", "Sue Supervisor", "supervisor", "customer-service"),
        "al": add_staff(stack, "al", "Al Agent", "agent", "customer-service"),
        "fay": add_staff(stack, "fay", "Fay Facilities", "supervisor", "facilities"),
    }
    clearloop(
        stack,
        "canned",
        "add",
        "--title",
        CANNED_TITLE,
        "--text",
        CANNED_TEXT,
        "--category",
        "service",
    )
    return tokens


@pytest.fixture
def second_page(browser: Browser, stack: Stack) -> Iterator[tuple[Page, Watch]]:
    """A page in a browser context of its own (another person's session), watched like ``page``."""
    context = browser.new_context()
    other = context.new_page()
    seen = watch_page(other, stack)
    yield other, seen
    context.close()
    problems = seen.problems()
    assert not problems, "the second page misbehaved:\n" + "\n".join(problems)


# --- tests ------------------------------------------------------------------------------------------


def test_queues_count_page_and_badge_deadlines(
    page: Page, stack: Stack, watch: Watch, crew: dict[str, str]
):
    fay = crew["fay"]
    report = {"type": "report", "category": "environment-streets", "consent_to_publish": False}
    answered = submit(
        stack,
        **report,
        subject="Streetlight out on Mill Lane: danger at night",
        description="The streetlight by the school crossing is out.",
    )
    late = submit(
        stack,
        **report,
        subject="Loose paving slab, danger of tripping",
        description="Outside the library entrance.",
    )
    idea = submit(
        stack,
        type="suggestion",
        category="environment-noise",
        subject="Quiet hours for the leaf blowers",
        description="Not before 9 am.",
    )
    for i in range(23):
        submit(
            stack,
            type="suggestion",
            category="environment-cleanliness",
            subject=f"More bins on the riverside walk ({i + 1})",
            description="Bins overflow.",
        )
    # A first response on one P1 ticket; then the SLA sweep runs as of 20 hours later, and the
    # browser's clock is set to that time: one ticket is due soon, one is late.
    api(
        stack,
        fay,
        "POST",
        f"/v1/staff/tickets/{answered['number']}/replies",
        {"public": True, "text": "A crew is booked for tonight."},
    )
    as_of = when(answered["submitted_at"]) + timedelta(hours=20)
    clearloop(stack, "sweep", "--jobs", "sla", "--as-of", as_of.isoformat())
    page.clock.set_fixed_time(as_of)
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in(page, stack, fay, "Fay Facilities")
    expect(page.locator("#ss-role")).to_have_text("(supervisor, facilities)")
    queue = page.locator("#sq-list")
    expect(page.get_by_role("button", name="New (25+)")).to_have_attribute("aria-pressed", "true")
    expect(queue.locator("li")).to_have_count(25)
    expect(page.locator("#sq-status")).to_have_text(
        "New tickets: 25+ tickets, next deadline first."
    )
    # The page shows the API's order (next deadline first), page by page.
    first_page = api(stack, fay, "GET", "/v1/staff/tickets?status=received&limit=25")
    shown = queue.locator("li > a strong").all_inner_texts()
    assert shown == [t["number"] for t in first_page["tickets"]]
    # The late ticket's resolution is due soon as well: it is in both queues.
    due_soon = api(stack, fay, "GET", "/v1/staff/tickets?sla=due_soon")["tickets"]
    assert {t["number"] for t in due_soon} == {answered["number"], late["number"]}
    expect(page.get_by_role("button", name="Due soon (2)")).to_be_visible()
    expect(page.get_by_role("button", name="Breached (1)")).to_be_visible()
    expect(page.get_by_role("button", name="Mine (0)")).to_be_visible()

    # Deadline badges say how long is left or how late, from the API's deadlines and states.
    def badge(number: str) -> str:
        return queue.locator("li", has_text=number).locator(".cl-badge").inner_text()

    late_view = api(stack, fay, "GET", f"/v1/staff/tickets/{late['number']}")
    late_by = as_of - when(late_view["sla"]["first_response"]["deadline"])
    assert late_view["sla"]["first_response"]["state"] == "breached"
    assert badge(late["number"]) == f"First response {span(late_by.total_seconds())} late"
    answered_view = api(stack, fay, "GET", f"/v1/staff/tickets/{answered['number']}")
    assert answered_view["sla"]["resolution"]["state"] == "due_soon"
    assert badge(answered["number"]) == "Resolution due in 4 h"
    idea_left = when(idea["deadlines"]["first_response"]) - as_of
    assert badge(idea["number"]) == f"First response due in {span(idea_left.total_seconds())}"
    expect(queue.locator("li", has_text=late["number"]).locator(".cl-badge--late")).to_be_visible()
    expect(queue.locator("li", has_text=late["number"])).to_contain_text("Escalated")

    # "More" follows the cursor; the count becomes exact once no page is left.
    page.get_by_role("button", name="More").click()
    expect(queue.locator("li")).to_have_count(26)
    expect(page.get_by_role("button", name="New (26)")).to_be_visible()
    expect(page.get_by_role("button", name="More")).to_be_hidden()
    expect(queue.locator("li").nth(25).locator("a")).to_be_focused()

    page.get_by_role("button", name="Breached (1)").click()
    expect(page.locator("#sq-title")).to_have_text("Breached")
    expect(queue.locator("li > a strong")).to_have_text([late["number"]])
    page.get_by_role("button", name="Due soon (2)").click()
    expect(queue.locator("li > a strong")).to_have_text([t["number"] for t in due_soon])
    page.get_by_role("button", name="By department (25+)").click()
    expect(page.get_by_label("Department")).to_have_value("facilities")
    expect(page.locator("#sq-title")).to_have_text("Facilities: open tickets")

    # Keyboard: j/k move, ? shows the help, o opens; never while typing in a field.
    page.get_by_role("button", name="New (26)").click()
    page.keyboard.press("j")
    links = queue.locator("li > a")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(links.nth(1)).to_be_focused()
    expect(queue.locator("li.cl-row--selected")).to_have_count(1)
    page.keyboard.press("?")
    expect(page.locator("#sq-help")).to_have_attribute("open", "")
    expect(page.locator("#sq-help summary")).to_be_focused()
    search = page.get_by_role("textbox", name="Search")
    search.press_sequentially("jjk")
    expect(queue.locator("li").nth(1)).to_have_class("cl-row cl-row--selected")
    search.fill("")
    page.keyboard.press("Escape")
    links.nth(1).focus()
    second = links.nth(1).locator("strong").inner_text()
    screenshot(page, "staff-queue-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    assert overflowing(page) == []
    screenshot(page, "staff-queue-375")
    page.set_viewport_size({"width": 1280, "height": 900})
    links.nth(1).focus()
    page.keyboard.press("o")
    expect(page).to_have_url(f"{stack.site_url}/staff/ticket/#{second}")
    expect(page.locator("#st-title")).to_contain_text(second)

    # The ticket view of the late ticket, with an internal note added, for the screenshots.
    api(
        stack,
        fay,
        "POST",
        f"/v1/staff/tickets/{late['number']}/replies",
        {"public": False, "text": "Highways say the slab is theirs; chasing them."},
    )
    open_ticket(page, stack, late["number"])
    expect(page.locator("#st-badges .cl-badge")).to_have_text(
        f"First response {span(late_by.total_seconds())} late"
    )
    expect(page.locator("#st-timeline li")).to_have_count(
        len(api(stack, fay, "GET", f"/v1/staff/tickets/{late['number']}")["timeline"])
    )
    screenshot(page, "staff-ticket-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    assert overflowing(page) == []
    screenshot(page, "staff-ticket-375")


def test_a_day_of_an_agent_and_a_supervisor(
    page: Page,
    stack: Stack,
    watch: Watch,
    crew: dict[str, str],
    second_page: tuple[Page, Watch],
):
    watch.allow_failed_loads()  # the 400 for a missing question and the 409 are part of the day
    sue_page, sue_watch = second_page
    sue_watch.allow_failed_loads()
    al, sue = crew["al"], crew["sue"]
    a = submit(
        stack,
        subject="Long queue at counter 3",
        contact={"email": "ana@example.org", "consent_to_contact": True},
    )
    b = submit(  # filed loosely by the submitter: triage refines the type and category
        stack,
        type="suggestion",
        category="service",
        subject="Saturday opening",
        description="Are you open on Saturdays?",
        consent_to_publish=False,
    )

    # Morning: Al signs in and records a phone call.
    sign_in(page, stack, al, "Al Agent")
    page.get_by_role("link", name="Record offline feedback").click()
    expect(page).to_have_url(f"{stack.site_url}/staff/intake/")
    page.get_by_label("How did it arrive?").select_option("phone")
    page.get_by_label("Kind of feedback").select_option("complaint")
    page.get_by_label("Category").select_option(label="Service: Waiting times")
    page.get_by_label("Subject").fill("Phone: queue at counter 3 again")
    page.get_by_label("Description").fill("Caller waited 90 minutes at counter 3 on Tuesday.")
    page.get_by_label("Phone number").fill("+44 20 7946 0000")
    page.get_by_label("The person agrees to be contacted").check()
    page.get_by_role("button", name="Record feedback").click()
    expect(page.get_by_role("heading", name="Feedback recorded")).to_be_focused()
    number = page.locator("#si-number").inner_text()
    key = page.locator("#si-key").inner_text()
    assert NUMBER.match(number)
    assert KEY.match(key)
    c = {"number": number, "key": key}
    c_view = api(stack, al, "GET", f"/v1/staff/tickets/{number}")
    assert (c_view["channel"], c_view["has_contact"], c_view["status"]) == (
        "phone",
        True,
        "received",
    )
    assert public_view(stack, c)["timeline"]  # the key read out to the caller works
    page.emulate_media(media="print")
    expect(page.locator("#si-receipt")).to_be_visible()
    expect(page.locator("#si-form")).to_be_hidden()
    expect(page.locator("#si-print")).to_be_hidden()
    page.emulate_media(media="screen")

    # The new queue has the three tickets.
    page.get_by_role("link", name="Queues").click()
    expect(page.get_by_role("button", name="New (3)")).to_be_visible()
    expect(page.locator("#sq-list li > a strong")).to_have_text(
        [t["number"] for t in api(stack, al, "GET", "/v1/staff/tickets?status=received")["tickets"]]
    )

    # Triage 1: Al opens A from the queue, takes it and raises it to P1.
    page.locator("#sq-list").get_by_role("link", name=a["number"]).click()
    expect(page.locator("#st-title")).to_have_text(f"{a['number']}: Long queue at counter 3")
    page.get_by_role("link", name="Edit triage").click()
    expect(page).to_have_url(f"{stack.site_url}/staff/triage/#{a['number']}")
    triage(page, {"Assignee": "al", "Priority": "P1"})
    expect(page.locator("#sg-save-status")).to_have_text("Triage saved.")
    a_view = api(stack, al, "GET", f"/v1/staff/tickets/{a['number']}")
    assert (a_view["assignee"], a_view["priority"]) == ("al", "P1")
    expect(page.locator("#sg-state")).to_have_text(f"Received · version {a_view['version']}")
    page.locator("#sg-title").get_by_role("link", name=a["number"]).click()
    expect(page.locator("#st-facts")).to_contain_text("PriorityP1")
    expect(page.locator("#st-facts")).to_contain_text("Assigneeal")
    expect(page.locator("#st-badges")).to_contain_text("P1")

    # A public reply from a canned response, sent by its id so the API renders it.
    page.get_by_label("Canned response").select_option(label=CANNED_TITLE)
    page.get_by_role("button", name="Insert").click()
    rendered = f"Thank you for {a['number']}. The customer-service team is looking into it."
    expect(page.get_by_label("Text", exact=True)).to_have_value(rendered)
    with page.expect_request(lambda r: r.url.endswith("/replies")) as sent:
        page.get_by_role("button", name="Send reply").click()
    assert sent.value.post_data_json == {"public": True, "canned_id": canned_id_of(stack, al)}
    expect(page.locator("#st-reply-status")).to_have_text("Reply sent. The submitter can read it.")
    last = page.locator("#st-timeline li").last
    expect(last).to_contain_text("Public")
    expect(last).to_contain_text(rendered)
    a_view = api(stack, al, "GET", f"/v1/staff/tickets/{a['number']}")
    assert a_view["timeline"][-1] | {"at": None} == {
        "at": None,
        "kind": "reply",
        "public": True,
        "actor": "staff:al",
        "actor_label": "agent (customer-service)",
        "text": rendered,
        "data": {},
    }
    assert a_view["sla"]["first_response"]["state"] == "met"

    # An internal note: labelled "Internal" in words, and never shown to the submitter.
    page.get_by_label("Internal note").check()
    page.get_by_label("Text", exact=True).fill("Counter 3 is short-staffed on Mondays; rota asked.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#st-reply-status")).to_have_text("Internal note added.")
    last = page.locator("#st-timeline li").last
    expect(last.locator(".cl-tag")).to_have_text("Internal")
    expect(last).to_have_class("cl-event cl-event--internal")
    note = api(stack, al, "GET", f"/v1/staff/tickets/{a['number']}")["timeline"][-1]
    assert (note["kind"], note["public"]) == ("note", False)
    assert "rota" not in json.dumps(public_view(stack, a))

    # Ask B's submitter for information: only the API's transitions are offered.
    open_ticket(page, stack, b["number"])
    assert transition_buttons(page) == ["acknowledged", "rejected", "merged"]
    move(page, "Acknowledge")
    expect(page.locator("#st-move-status")).to_have_text("Status changed to Acknowledged.")
    b_view = api(stack, al, "GET", f"/v1/staff/tickets/{b['number']}")
    assert b_view["status"] == "acknowledged"
    expect(page.locator("#st-transitions button:visible")).to_have_count(
        len(b_view["allowed_transitions"])
    )
    assert transition_buttons(page) == b_view["allowed_transitions"]
    move(page, "Ask for information")  # no question: the API says what is missing
    expect(page.locator("#st-move-error")).to_have_text(
        "Question for the submitter: a public question is required"
    )
    expect(page.locator("#st-move-text")).to_have_attribute("aria-invalid", "true")
    page.locator("#st-move-text").fill("Which service do you need on a Saturday?")
    page.locator("#st-move").get_by_role("button", name="Ask for information").click()
    expect(page.locator("#st-move-status")).to_have_text("Status changed to Awaiting information.")
    expect(page.locator("#st-badges .cl-badge")).to_have_text("Clock paused: awaiting information")
    b_view = api(stack, al, "GET", f"/v1/staff/tickets/{b['number']}")
    assert (b_view["status"], b_view["sla"]["paused"]) == ("awaiting_info", True)
    assert (
        public_view(stack, b)["timeline"][-1]["text"] == "Which service do you need on a Saturday?"
    )

    # Triage 2: Sue, in her own browser, files B under access and gives it to Al.
    sign_in(sue_page, stack, sue, "Sue Supervisor", f"/staff/triage/#{b['number']}")
    triage(
        sue_page,
        {
            "Category": "service-access",
            "Type": "inquiry",
            "Assignee": "al",
            "Public summary": "Question about Saturday opening hours.",
        },
    )
    expect(sue_page.locator("#sg-save-status")).to_have_text("Triage saved.")
    b_view = api(stack, sue, "GET", f"/v1/staff/tickets/{b['number']}")
    assert (b_view["type"], b_view["category"], b_view["assignee"]) == (
        "inquiry",
        "service-access",
        "al",
    )
    assert b_view["public_summary"] == "Question about Saturday opening hours."
    assert b_view["timeline"][-1]["data"]["changes"]["category"] == ["service", "service-access"]

    # Resolve A: acknowledge, start work, resolve with a public resolution.
    open_ticket(page, stack, a["number"])
    move(page, "Acknowledge")
    expect(page.locator("#st-move-status")).to_have_text("Status changed to Acknowledged.")
    move(page, "Start work")
    expect(page.locator("#st-move-status")).to_have_text("Status changed to In progress.")
    resolution = "A second counter now opens at peak times."
    move(page, "Resolve", resolution)
    expect(page.locator("#st-move-status")).to_have_text("Status changed to Resolved.")
    a_view = api(stack, al, "GET", f"/v1/staff/tickets/{a['number']}")
    assert (a_view["status"], a_view["resolution"]) == ("resolved", resolution)
    assert transition_buttons(page) == a_view["allowed_transitions"] == ["closed"]
    expect(page.locator("#st-facts")).to_contain_text(resolution)

    # Sue approves A for the board: the preview masks the submitter's own e-mail address.
    sue_page.goto(f"{stack.site_url}/staff/publication/#{a['number']}")
    expect(sue_page.locator("#sp-facts")).to_contain_text("Given: a summary may be published")
    expect(sue_page.get_by_label("What was done")).to_have_value(resolution)
    sue_page.get_by_label("Public summary").fill("Long queue at counter 3 (ana@example.org).")
    sue_page.get_by_role("button", name="Preview redaction").click()
    expect(sue_page.locator(".cl-compare").first).to_contain_text("counter 3 ([email removed])")
    sue_page.get_by_role("button", name="Approve for the board").click()
    expect(sue_page.locator("#sp-facts")).to_contain_text("PublicationApproved (on the board)")
    board = api(stack, sue, "GET", f"/v1/staff/tickets/{a['number']}")["publication"]
    assert (board["state"], board["summary"], board["resolution"]) == (
        "approved",
        "Long queue at counter 3 ([email removed]).",
        resolution,
    )

    # A stale write: Sue opens C; Al raises its priority; Sue's save meets a 409 and a diff.
    sue_page.goto(f"{stack.site_url}/staff/triage/#{c['number']}")
    expect(sue_page.locator("#sg-title")).to_contain_text(c["number"])
    opened = api(stack, sue, "GET", f"/v1/staff/tickets/{c['number']}")
    page.goto(f"{stack.site_url}/staff/triage/#{c['number']}")
    triage(page, {"Priority": "P1", "Subject": "Phone: 90-minute queue at counter 3"})
    expect(page.locator("#sg-save-status")).to_have_text("Triage saved.")
    triage(sue_page, {"Priority": "P3", "Public summary": "Long wait at a counter."})
    conflict = sue_page.locator("#sg-conflict")
    expect(conflict).to_be_focused()
    expect(conflict.get_by_role("heading")).to_have_text("Someone else changed this ticket")
    rows = conflict.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_text(f"Priority{opened['priority']}P3P1 (changed by someone else)")
    expect(rows.nth(1)).to_have_text(
        f"Subject{opened['subject']}(not edited)Phone: 90-minute queue at counter 3"
        " (changed by someone else)"
    )
    expect(rows.nth(2)).to_have_text("Public summary—Long wait at a counter.—")
    c_view = api(stack, sue, "GET", f"/v1/staff/tickets/{c['number']}")
    assert (c_view["priority"], c_view["public_summary"]) == ("P1", None)  # nothing lost
    sue_page.get_by_role("button", name="Reload").click()
    expect(sue_page.get_by_label("Priority")).to_have_value("P1")
    expect(sue_page.get_by_label("Public summary")).to_have_value("")
    triage(sue_page, {"Public summary": "Long wait at a counter."})
    expect(sue_page.locator("#sg-save-status")).to_have_text("Triage saved.")
    c_view = api(stack, sue, "GET", f"/v1/staff/tickets/{c['number']}")
    assert (c_view["priority"], c_view["public_summary"]) == ("P1", "Long wait at a counter.")

    # Contact details: behind a button that says the read is audited; the read is on record.
    open_ticket(page, stack, c["number"])
    expect(page.locator("#st-contact-hint")).to_contain_text("Every reveal is audited")
    page.get_by_role("button", name="Reveal contact details").click()
    expect(page.locator("#st-contact")).to_contain_text("Phone+442079460000")
    expect(page.locator("#st-timeline li").last).to_contain_text("Contact details read")
    audit = api(stack, al, "GET", f"/v1/staff/tickets/{c['number']}")["timeline"][-1]
    assert (audit["kind"], audit["public"], audit["actor"]) == ("contact_viewed", False, "staff:al")

    # Evening: Sue downloads the department's CSV; it is the API's export, byte for byte.
    sue_page.goto(stack.site_url + "/staff/#queue=department")
    expect(sue_page.get_by_role("button", name="By department (2)")).to_have_attribute(
        "aria-pressed", "true"
    )
    with sue_page.expect_download() as download:
        sue_page.get_by_role("button", name="Download CSV").click()
    csv_bytes = Path(download.value.path()).read_bytes()
    expect(sue_page.locator("#sq-status")).to_have_text("CSV downloaded.")
    direct = http_request(
        "GET",
        stack.api_url + "/v1/staff/export.csv?department=customer-service",
        headers={"Authorization": f"Bearer {sue}"},
    )
    assert csv_bytes == direct.body
    lines = csv_bytes.decode().splitlines()
    assert lines[0].startswith("number,submitted_at,channel")
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(
        [a["number"], b["number"], c["number"]]
    )
    exported = sue_watch.api_requests("/v1/staff/export.csv")[-1]
    assert exported.headers["authorization"] == f"Bearer {sue}"


def canned_id_of(stack: Stack, token: str) -> str:
    """The id of the canned response the crew fixture added."""
    canned = api(stack, token, "GET", "/v1/staff/canned?category=service-waiting")["canned"]
    return next(c["id"] for c in canned if c["title"] == CANNED_TITLE)


def test_publication_preview_approve_withdraw_for_supervisors_only(
    page: Page,
    stack: Stack,
    watch: Watch,
    crew: dict[str, str],
    second_page: tuple[Page, Watch],
):
    al, sue = crew["al"], crew["sue"]
    ticket = submit(stack, subject="Queue at counter 5", description="Waited an hour.")
    path = f"/v1/staff/tickets/{ticket['number']}"
    version = api(stack, al, "GET", path)["version"]
    for status, text in (("acknowledged", ""), ("in_progress", ""), ("resolved", "Fixed.")):
        body = {"status": status, **({"text": text} if text else {})}
        version = api(stack, al, "POST", path + "/transitions", body, **{"If-Match": str(version)})[
            "version"
        ]

    # The agent sees the consent and why approving is not theirs to do.
    sign_in(page, stack, al, "Al Agent", f"/staff/publication/#{ticket['number']}")
    expect(page.locator("#sp-title")).to_contain_text(ticket["number"])
    expect(page.locator("#sp-facts")).to_contain_text("Given: a summary may be published")
    expect(page.locator("#sp-role-note")).to_contain_text("need the supervisor or admin role")
    expect(page.get_by_role("button", name="Approve for the board")).to_have_attribute(
        "aria-disabled", "true"
    )
    # aria-disabled keeps the button reachable, so its explanation can be read out.
    page.get_by_role("button", name="Approve for the board").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#sp-result-status")).to_contain_text("need the supervisor or admin role")
    assert not watch.api_requests(path + "/publication", "POST")

    # The supervisor previews the redaction, then approves what the preview showed.
    sue_page, sue_watch = second_page
    sign_in(sue_page, stack, sue, "Sue Supervisor", f"/staff/publication/#{ticket['number']}")
    expect(sue_page.locator("#sp-facts")).to_contain_text("PublicationNot approved")
    summary = "Long queue at counter 5; mail ana@example.org for details."
    sue_page.get_by_label("Public summary").fill(summary)
    sue_page.get_by_role("button", name="Preview redaction").click()
    expect(sue_page.locator("#sp-result-status")).to_contain_text("Preview ready")
    summary_preview = sue_page.locator(".cl-preview").first
    expect(summary_preview.locator(".cl-compare > div").first).to_contain_text(summary)
    public_text = summary_preview.locator(".cl-compare > div").nth(1)
    expect(public_text).to_contain_text("Long queue at counter 5; mail [email removed]")
    expect(summary_preview.locator("li")).to_have_text(["Email: ana@example.org"])
    screenshot(sue_page, "staff-publication-1280")
    sue_page.set_viewport_size({"width": 375, "height": 800})
    assert overflowing(sue_page) == []
    sue_page.set_viewport_size({"width": 1280, "height": 900})
    sue_page.get_by_role("button", name="Approve for the board").click()
    expect(sue_page.locator("#sp-result-status")).to_contain_text("Approved")
    expect(sue_page.locator("#sp-facts")).to_contain_text("PublicationApproved (on the board)")
    approved = api(stack, sue, "GET", path)["publication"]
    assert (approved["state"], approved["on_board"]) == ("approved", True)
    assert approved["summary"] == "Long queue at counter 5; mail [email removed] for details."
    approve_request = sue_watch.api_requests(path + "/publication", "POST")[-1]
    assert approve_request.post_data_json == {
        "action": "approve",
        "summary": summary,
        "resolution": "Fixed.",
    }
    sue_page.get_by_role("button", name="Withdraw from the board").click()
    expect(sue_page.locator("#sp-result-status")).to_contain_text("Withdrawn")
    assert api(stack, sue, "GET", path)["publication"]["state"] == "withdrawn"


def test_sign_out_and_a_revoked_token_forget_the_token(
    page: Page, stack: Stack, watch: Watch, crew: dict[str, str]
):
    watch.allow_failed_loads()  # the 401s are the point
    sign_in(page, stack, crew["al"], "Al Agent")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Staff token")).to_be_focused()
    expect(page.locator("#sq-list")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None

    page.get_by_label("Staff token").fill("clt_NOTAREALTOKEN")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#ss-error")).to_have_text("Sign-in failed: This token is not valid.")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None

    token = clearloop(stack, "token", "issue", "al", "--quiet", "--label", "revoked in a test")
    sign_in(page, stack, token, "Al Agent")
    token_id = next(
        line.split()[0]
        for line in clearloop(stack, "token", "list", "al").splitlines()
        if line.endswith("revoked in a test")
    )
    clearloop(stack, "token", "revoke", "al", token_id)
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#ss-error")).to_have_text(
        "You have been signed out: This token has been revoked."
    )
    expect(page.get_by_label("Staff token")).to_be_visible()
    expect(page.locator("#sq-list")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


@pytest.mark.parametrize("path", list(STAFF_PAGES))
def test_staff_page_loads_cleanly_and_stays_small(
    page: Page, stack: Stack, watch: Watch, crew: dict[str, str], path: str
):
    ticket = submit(stack, subject="Page check")
    page.add_init_script(f"sessionStorage.setItem('{TOKEN_KEY}', {json.dumps(crew['sue'])})")
    with_number = {"/staff/ticket/", "/staff/triage/", "/staff/publication/"}
    hash_part = f"#{ticket['number']}" if path in with_number else ""
    response = page.goto(stack.site_url + path + hash_part)
    assert response is not None
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text(STAFF_PAGES[path])
    expect(page.locator("#ss-name")).to_have_text("Sue Supervisor")
    if hash_part:
        expect(
            page.get_by_role("heading", level=2).filter(has_text=ticket["number"])
        ).to_be_visible()
    page.wait_for_load_state("networkidle")
    sizes = own_asset_bytes(watch)
    total = sum(sizes.values())
    print(f"\n{path}: {total} bytes of our JS+CSS: {json.dumps(sizes)}")
    assert total <= PAGE_BUDGET_BYTES, sizes
    # Only the modules this page needs: the other pages' modules are not loaded.
    others = {
        f"/assets/js/staff-{name}.js"
        for name in ("queue", "ticket", "triage", "intake", "publication")
    }
    assert len(others & set(sizes)) == 1
    page.set_viewport_size({"width": 320, "height": 700})
    assert overflowing(page) == []
    # The watch fixture fails the test on any console error or CSP violation.


def test_the_chinese_staff_console_signs_in_and_shows_the_queue_in_chinese(
    page: Page, stack: Stack, watch: Watch, crew: dict[str, str]
):
    ticket = submit(stack, subject="Chinese queue check")
    watch.allow_failed_loads()  # the sign-in with a wrong token is a 401 on purpose
    page.goto(stack.site_url + "/zh/staff/")
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.locator("h1")).to_have_text("工作人员控制台")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#ss-error")).to_have_text("请输入您的工作人员令牌。")
    page.get_by_label("工作人员令牌").fill("clt_not-a-real-token")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#ss-error")).to_contain_text("登录失败：")
    page.get_by_label("工作人员令牌").fill(crew["sue"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#ss-name")).to_have_text("Sue Supervisor")
    expect(page.locator("#ss-role")).to_have_text("（主管，customer-service）")
    expect(page.locator("#sq-title")).to_have_text("新工单")
    expect(page.locator("#sq-status")).to_contain_text("新工单：")
    expect(page.locator("#sq-status")).to_contain_text("张工单，按最近的期限排序。")
    row = page.locator(".cl-row").filter(has_text=ticket["number"])
    expect(row).to_contain_text("已收到")  # the status, in Chinese
    expect(row).to_contain_text("投诉")  # the type
    expect(row.locator(".cl-badge")).to_contain_text("首次答复还剩")
    page.get_by_role("button", name="已超时").click()
    expect(page.locator("#sq-title")).to_have_text("已超时")
    # The API speaks Chinese to the Chinese console (Accept-Language).
    requests = [r for r in watch.requests if "/v1/staff/tickets?" in r.url]
    assert requests
    assert requests[-1].headers["accept-language"].startswith("zh")
    # The Chinese tables, and no English one: the page stays within the budget too.
    sizes = own_asset_bytes(watch)
    assert "/assets/js/messages/zh/staff-core.js" in sizes
    assert "/assets/js/messages/zh/staff-queue.js" in sizes
    assert sum(sizes.values()) <= PAGE_BUDGET_BYTES, sizes
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#ss-status")).to_have_text("已退出登录。")


ZH_STAFF_PAGES = {
    "/zh/staff/ticket/": ("工单", "#st-timeline", "已提交"),
    "/zh/staff/triage/": ("分类处理", "#sg-state", "第"),
    "/zh/staff/publication/": ("公开审核", "#sp-facts", "提交人同意情况"),
    "/zh/staff/intake/": ("登记线下意见", "#si-category", "请选择类别"),
}


@pytest.mark.parametrize("path", list(ZH_STAFF_PAGES))
def test_a_chinese_staff_page_works_in_chinese_and_stays_small(
    page: Page, stack: Stack, watch: Watch, crew: dict[str, str], path: str
):
    heading, where, text = ZH_STAFF_PAGES[path]
    ticket = submit(stack, subject="Chinese page check")
    page.add_init_script(f"sessionStorage.setItem('{TOKEN_KEY}', {json.dumps(crew['sue'])})")
    hash_part = "" if path.endswith("intake/") else f"#{ticket['number']}"
    page.goto(stack.site_url + path + hash_part)
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("#ss-role")).to_have_text("（主管，customer-service）")
    expect(page.locator(where)).to_contain_text(text)
    if hash_part:
        expect(
            page.get_by_role("heading", level=2).filter(has_text=ticket["number"])
        ).to_be_visible()
    page.wait_for_load_state("networkidle")
    sizes = own_asset_bytes(watch)
    assert "/assets/js/messages/zh/staff-core.js" in sizes
    assert not [p for p in sizes if "/messages/en/" in p]
    assert sum(sizes.values()) <= PAGE_BUDGET_BYTES, sizes
