"""The local runner's real processes over HTTP: ``clearloop run`` with chalice local, the built
site, the SQLite file and (for the DynamoDB path) moto's server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from tests.support.stack import (
    REPO_ROOT,
    Stack,
    alive,
    free_port,
    http_request,
    runner_command,
    runner_env,
    running_stack,
    stop_stack,
)

pytestmark = pytest.mark.integration

SECOND_START_LIMIT_SECONDS = 15.0
FEEDBACK = {
    "type": "complaint",
    "category": "service",
    "subject": "The lift at the north entrance is broken",
    "description": "It has been out of order for a week; nobody put up a notice.",
    "location": "North entrance",
    "consent_to_publish": False,
    "language": "en",
}


def submit(stack: Stack, **headers: str) -> dict[str, Any]:
    """POST /v1/feedback per SPEC §6; returns the 201 body."""
    response = http_request("POST", stack.api_url + "/v1/feedback", body=FEEDBACK, headers=headers)
    assert response.status == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["status"] == "received"
    assert created["number"]
    assert created["key"]
    return created


def track(stack: Stack, number: str, key: str) -> dict[str, Any]:
    """GET /v1/tickets/{number} with the private key; returns the 200 body."""
    response = http_request(
        "GET", f"{stack.api_url}/v1/tickets/{number}", headers={"X-Ticket-Key": key}
    )
    assert response.status == 200, response.text
    view: dict[str, Any] = response.json()
    assert view["number"] == number
    assert isinstance(view["timeline"], list)
    return view


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("sqlite-stack")
    with running_stack(root / "data", site_dir=root / "site") as stack:
        yield stack


def test_health_answers(sqlite_stack: Stack) -> None:
    response = http_request("GET", sqlite_stack.api_url + "/v1/health")
    assert response.status == 200, response.text
    assert "http://127.0.0.1:" in sqlite_stack.output()
    assert (sqlite_stack.data_dir / "clearloop.db").is_file()


def test_site_home_has_security_headers_and_the_api_base(sqlite_stack: Stack) -> None:
    api = sqlite_stack.api_url
    home = http_request("GET", sqlite_stack.site_url + "/")
    assert home.status == 200
    assert home.header("Content-Type") == "text/html; charset=utf-8"
    assert home.header("Content-Security-Policy") == (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob: {api}; font-src 'self'; connect-src 'self' {api}; frame-ancestors 'none'; "
        f"base-uri 'self'; form-action 'self' {api}"
    )
    assert home.header("X-Content-Type-Options") == "nosniff"
    assert home.header("Referrer-Policy") == "no-referrer"
    assert home.header("X-Frame-Options") == "DENY"
    assert home.header("Permissions-Policy") == "geolocation=(), camera=(), microphone=()"
    # The site was built for this stack's API port: its <meta> tag carries the API base.
    metas = re.findall(r"<meta\b[^>]*>", home.text)
    assert any(f'content="{api}"' in m or f'content="{api}/"' in m for m in metas), metas


def test_site_serves_modules_directories_and_its_404_page(sqlite_stack: Stack) -> None:
    home = http_request("GET", sqlite_stack.site_url + "/").text
    scripts = re.findall(r'<script\b[^>]*\bsrc="([^"]+\.m?js)"', home)
    assert scripts, "the home page loads no script"
    for src in scripts:
        url = urljoin(sqlite_stack.site_url + "/", src)
        script = http_request("GET", url)
        assert script.status == 200, url
        assert script.header("Content-Type") == "text/javascript; charset=utf-8", url

    # A directory URL without its slash redirects; with it, serves that folder's index.html.
    track_dir = sqlite_stack.site_url + "/track"
    redirect = http_request("GET", track_dir)
    assert redirect.status == 301
    assert redirect.header("Location") == "/track/"
    assert redirect.header("Content-Security-Policy")
    page = http_request("GET", track_dir + "/")
    assert page.status == 200
    assert "<html" in page.text

    missing = http_request("GET", sqlite_stack.site_url + "/no/such/page/")
    assert missing.status == 404
    assert missing.header("Content-Type") == "text/html; charset=utf-8"
    assert missing.header("X-Frame-Options") == "DENY"
    assert missing.body == http_request("GET", sqlite_stack.site_url + "/404.html").body


def test_cors_allows_only_the_site_origin(sqlite_stack: Stack) -> None:
    site = sqlite_stack.site_url
    preflight = http_request(
        "OPTIONS",
        sqlite_stack.api_url + "/v1/feedback",
        headers={
            "Origin": site,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status in (200, 204), preflight.text
    assert preflight.header("Access-Control-Allow-Origin") == site
    assert "POST" in (preflight.header("Access-Control-Allow-Methods") or "")

    created = http_request(
        "POST", sqlite_stack.api_url + "/v1/feedback", body=FEEDBACK, headers={"Origin": site}
    )
    assert created.status == 201, created.text
    assert created.header("Access-Control-Allow-Origin") == site

    stranger = "http://evil.example"
    other = http_request("GET", sqlite_stack.api_url + "/v1/health", headers={"Origin": stranger})
    assert other.header("Access-Control-Allow-Origin") in (None, site)


def test_ticket_survives_a_restart_and_the_second_start_is_fast(tmp_path: Path) -> None:
    data_dir, site_dir = tmp_path / "data", tmp_path / "site"
    with running_stack(data_dir, site_dir=site_dir) as first:
        created = submit(first)
        track(first, created["number"], created["key"])

    with running_stack(
        data_dir, site_dir=site_dir, api_port=first.api_port, site_port=first.site_port
    ) as second:
        assert second.startup_seconds < SECOND_START_LIMIT_SECONDS, second.output()
        # Same ports, same sources: no rebuild (unless someone edited site/ meanwhile).
        output = second.output()
        assert "Site unchanged since the last build" in output or "sources changed" in output
        view = track(second, created["number"], created["key"])
        assert view["status"] == "received"


def test_dynamodb_stack_submit_and_track(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", store="dynamodb", site_dir=tmp_path / "site") as stack:
        assert "moto keeps" in stack.output()
        created = submit(stack)
        view = track(stack, created["number"], created["key"])
        assert view["status"] == "received"
        assert not (stack.data_dir / "clearloop.db").exists()


def test_sigterm_stops_every_child_process(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", store="dynamodb", site_dir=tmp_path / "site") as stack:
        children = set(stack.child_pids)
        assert len(children) >= 2, stack.output()  # chalice local and moto's server
        stop_stack(stack)  # SIGTERM; asserts exit code 0
        assert stack.process.returncode == 0
        assert not alive(children), stack.logs()
        assert "Clearloop stopped." in stack.output()


def test_a_child_that_dies_stops_the_stack_with_its_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_stack(data_dir, site_dir=tmp_path / "site", expect_exit_code=1) as stack:
        api = next(pid for pid in stack.child_pids if _is_chalice_local(pid))
        others = stack.child_pids - {api}
        os.kill(api, signal.SIGKILL)
        stack.process.wait(timeout=30)
    output = stack.output()
    assert "the API server (chalice local) stopped unexpectedly" in output
    assert str(data_dir / "logs" / "api.log") in output
    assert "Serving on http://127.0.0.1:" in output  # the child's last log lines
    assert not alive(others)


@pytest.mark.parametrize("role", ["api", "site"])
def test_a_taken_port_is_named_and_exits_non_zero(tmp_path: Path, role: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = int(blocker.getsockname()[1])
        other = free_port()
        ports = (taken, other) if role == "api" else (other, taken)
        started = time.monotonic()
        result = subprocess.run(
            runner_command(
                store="sqlite",
                api_port=ports[0],
                site_port=ports[1],
                data_dir=tmp_path / "data",
                site_dir=tmp_path / "site",
            ),
            cwd=REPO_ROOT,
            env=runner_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert time.monotonic() - started < 10
    flag = "--api-port" if role == "api" else "--site-port"
    assert f"port {taken} on 127.0.0.1" in result.stderr
    assert "already in use" in result.stderr
    assert flag in result.stderr
    assert "Clearloop is running" not in result.stdout


def _is_chalice_local(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"local" in cmdline and any(part.endswith(b"chalice") for part in cmdline)
