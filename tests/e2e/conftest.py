"""End-to-end fixtures: the system Chromium, one running stack per module, a page watcher.

- ``browser_type_launch_args`` (session): pytest-playwright launches the Debian Chromium
  (``/usr/lib/chromium/chromium``, or ``CLEARLOOP_CHROMIUM``); Playwright downloads no browser.
  A missing Chromium FAILS every e2e test with instructions; it never skips.
- ``stack`` (module): ``clearloop run`` on free ports (SQLite, site built into a temporary
  folder with a short minimum fill time, ``MIN_FILL_SECONDS``).
- ``watch`` (function): records console errors, CSP violations, uncaught page errors and every
  request of ``page``; at teardown it fails the test on any CSP violation, page error, request
  to a host other than the site and the API, or console error (a test that provokes HTTP errors
  on purpose allows the browser's "Failed to load resource" lines with ``allow_failed_loads``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import CSP_MARK, MIN_FILL_SECONDS, Watch, origin
from tests.support.stack import Stack, running_stack

CHROMIUM = Path(os.environ.get("CLEARLOOP_CHROMIUM", "/usr/lib/chromium/chromium"))
# Keep the browser quiet: no update checks, sync or first-run requests of its own.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous, so a busy machine does not fail a test; a passing expectation returns at once.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)
_REPORT_VIOLATIONS = (
    "document.addEventListener('securitypolicyviolation', (e) => console.error("
    f"'{CSP_MARK} ' + e.violatedDirective + ' ' + e.blockedURI + ' at ' + e.sourceFile + ':' "
    "+ e.lineNumber));"
)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the system Chromium instead of a Playwright-downloaded browser."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. The e2e tests need it and never skip: "
            "install it with `apt-get install -y chromium` (Debian), or point "
            "CLEARLOOP_CHROMIUM at a Chromium binary (not a wrapper script).",
            pytrace=False,
        )
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": args}


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's stack builds the site."""
    return tmp_path_factory.mktemp("e2e-site")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, site_dir: Path) -> Iterator[Stack]:
    """The local runner (API + freshly built site) for the tests of one module."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = {"CLEARLOOP_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS)}
    with running_stack(data_dir, site_dir=site_dir, env=env) as running:
        yield running


@pytest.fixture
def watch(page: Page, stack: Stack) -> Iterator[Watch]:
    """Watch ``page``; the test fails at teardown if the page misbehaved."""
    seen = Watch(allowed_origins={origin(stack.site_url), origin(stack.api_url)})
    page.add_init_script(_REPORT_VIOLATIONS)
    page.on("console", seen.on_console)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    # Not the bound method itself: Playwright tags handlers with an attribute.
    page.on("request", lambda request: seen.requests.append(request))  # noqa: PLW0108
    page.set_default_timeout(TIMEOUT_MS)
    yield seen
    problems = seen.problems()
    assert not problems, "the page misbehaved:\n" + "\n".join(problems)
