"""Fixtures shared by every test level: a fake AWS environment, moto's server, the stores.

- ``aws_test_environment`` (session, autouse): every ``AWS_*`` variable of the real environment
  is removed and fake credentials and region are set, so no test can reach a real account.
- ``moto_server_url`` (session): moto's server in a subprocess on a free port, answering one
  request at a time (see ``scripts/moto_server.py`` for why); fails loudly if it does
  not start.
- ``store_kind`` / ``store``: one store per test, parametrized over ``STORE_KINDS`` (ids
  ``sqlite``, ``dynamodb-moto``, ``dynamodb-server``); the server starts only if a test needs it.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.store.port import TicketStore
from tests.support.stores import FAKE_AWS_ENV, STORE_KINDS, make_store

MOTO_START_TIMEOUT_SECONDS = 30
SERIAL_MOTO_SERVER = Path(__file__).resolve().parents[1] / "scripts" / "moto_server.py"


@pytest.fixture(scope="session", autouse=True)
def aws_test_environment() -> Iterator[dict[str, str]]:
    """Fake AWS credentials and region for the whole session; real AWS_* values removed."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                mp.delenv(name)
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        yield dict(FAKE_AWS_ENV)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/moto-api/")
        conn.getresponse().read()
    except OSError:
        return False
    finally:
        conn.close()
    return True


@pytest.fixture(scope="session")
def moto_server_url(
    aws_test_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of moto's server, started once per session (per xdist worker) and stopped at the end."""
    port = _free_port()
    log_path: Path = tmp_path_factory.mktemp("moto-server") / "moto_server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(aws_test_environment)
    env["MOTO_PORT"] = str(port)  # as moto_server sets it: some services build URLs from it
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(SERIAL_MOTO_SERVER), str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + MOTO_START_TIMEOUT_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(
                    f"moto server did not start on port {port} "
                    f"(exit code {process.poll()}):\n{output}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=STORE_KINDS, ids=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which adapter the test runs on."""
    return str(request.param)


@pytest.fixture
def store(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TicketStore]:
    """An empty store of ``store_kind``; moto's server is started only for dynamodb-server."""
    url = request.getfixturevalue("moto_server_url") if store_kind == "dynamodb-server" else None
    with make_store(store_kind, tmp_path, url) as s:
        yield s
