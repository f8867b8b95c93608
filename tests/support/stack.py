"""Start the local runner (``clearloop run``) as a real subprocess for integration tests.

Example::

    with running_stack(tmp_path / "data", site_dir=tmp_path / "site") as stack:
        response = http_request("GET", stack.api_url + "/v1/health")
        assert response.status == 200

The runner gets free ports (or the ones given), its own process group and its output in
``<data dir>/logs/runner.out``. Leaving the block sends SIGTERM and asserts a clean exit (code 0)
with none of the runner's children still alive. A stack that does not start raises
``StackError`` with the runner's output and its children's logs; it never skips.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalicelib.runner import READY_MARKER
from tests.support.limits import GENEROUS_RATE_LIMITS

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
_LOG_TAIL_CHARS = 4000


class StackError(Exception):
    """The stack did not start, or did not stop cleanly; the message carries the logs."""


@dataclass(frozen=True)
class Stack:
    """A running ``clearloop run``: its URLs, folders, process and start-up measurements."""

    api_url: str
    site_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_dir: Path
    api_port: int = 0
    site_port: int = 0
    startup_seconds: float = 0.0
    # The runner's descendants when it became ready (chalice local, moto's server...).
    child_pids: frozenset[int] = field(default_factory=frozenset)
    output_path: Path = Path()
    output_offset: int = 0

    def output(self) -> str:
        """What the runner printed in this run so far."""
        return _read(self.output_path, self.output_offset)

    def logs(self) -> str:
        """The runner's output and the tail of every log under ``log_dir``, for failure messages."""
        return _describe_logs(self.output_path, self.log_dir)


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name (None when absent)."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_request(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Response:
    """One HTTP request with http.client (no proxies); ``body`` other than bytes is sent as JSON."""
    parts = urlsplit(url)
    all_headers = dict(headers or {})
    data: bytes | None
    if body is None or isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return Response(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def runner_command(
    *,
    store: str,
    api_port: int,
    site_port: int,
    data_dir: Path,
    site_dir: Path | None,
    build: bool = True,
) -> list[str]:
    """The argv that starts ``clearloop run`` with this interpreter."""
    command = [sys.executable, "-m", "chalicelib.cli", "run", "--store", store]
    command += ["--api-port", str(api_port), "--site-port", str(site_port)]
    command += ["--data-dir", str(data_dir)]
    if site_dir is not None:
        command += ["--site-dir", str(site_dir)]
    if not build:
        command.append("--no-build")
    return command


def runner_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus ``env``, with unbuffered output. Rate limits are
    generous (``GENEROUS_RATE_LIMITS``) unless ``env`` or the environment sets them."""
    merged = {**GENEROUS_RATE_LIMITS, **os.environ}
    merged.update(env or {})
    merged["PYTHONUNBUFFERED"] = "1"
    return merged


@contextlib.contextmanager
def running_stack(
    data_dir: Path,
    *,
    store: str = "sqlite",
    site_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    api_port: int | None = None,
    site_port: int | None = None,
    build: bool = True,
    timeout: float = START_TIMEOUT_SECONDS,
    expect_exit_code: int = 0,
) -> Iterator[Stack]:
    """Run ``clearloop run`` until the block ends; stop it with SIGTERM and check it stopped.

    ``expect_exit_code`` is for tests that make the runner fail on purpose inside the block.
    """
    data_dir = data_dir.resolve()
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    output_path = log_dir / "runner.out"
    api_port = api_port or free_port()
    site_port = site_port or _other_free_port(api_port)
    command = runner_command(
        store=store,
        api_port=api_port,
        site_port=site_port,
        data_dir=data_dir,
        site_dir=site_dir,
        build=build,
    )
    started = time.monotonic()
    with output_path.open("ab") as output:
        offset = output.tell()
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=runner_env(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(process, output_path, offset, log_dir, timeout)
    except BaseException:
        _terminate(process, descendant_pids(process.pid))
        raise
    stack = Stack(
        api_url=f"http://{HOST}:{api_port}",
        site_url=f"http://{HOST}:{site_port}",
        data_dir=data_dir,
        process=process,
        log_dir=log_dir,
        api_port=api_port,
        site_port=site_port,
        startup_seconds=time.monotonic() - started,
        child_pids=frozenset(descendant_pids(process.pid)),
        output_path=output_path,
        output_offset=offset,
    )
    try:
        yield stack
    except BaseException:
        # The test failed: stop everything, but let the test's own error be the one reported.
        _terminate(process, stack.child_pids | descendant_pids(process.pid))
        raise
    stop_stack(stack, expect_exit_code=expect_exit_code)


def stop_stack(
    stack: Stack, timeout: float = STOP_TIMEOUT_SECONDS, *, expect_exit_code: int = 0
) -> None:
    """SIGTERM the runner (if running); check its exit code and that no child is left behind."""
    process = stack.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process, stack.child_pids | descendant_pids(process.pid))
        raise StackError(
            f"clearloop run did not stop within {timeout:.0f}s of SIGTERM\n{stack.logs()}"
        ) from None
    left = alive(stack.child_pids)
    if left:
        _kill(process, left)
    if process.returncode != expect_exit_code or left:
        raise StackError(
            f"clearloop run exited with code {process.returncode} "
            f"(expected {expect_exit_code})"
            + (f" and left processes {sorted(left)} running" if left else "")
            + f"\n{stack.logs()}"
        )


def descendant_pids(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (children, grandchildren...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        parent = _parent_pid(int(entry.name))
        if parent is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pids: Sequence[int] | frozenset[int] | set[int], grace: float = 2.0) -> set[int]:
    """The ``pids`` still running (zombies count as gone) after up to ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while True:
        running = {pid for pid in pids if _is_running(pid)}
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.05)


def _is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in {"Z", "X"}


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: fields follow the last ")".
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]) if len(fields) > 1 else None


def _other_free_port(taken: int) -> int:
    while True:
        port = free_port()
        if port != taken:
            return port


def _wait_ready(
    process: subprocess.Popen[bytes], output_path: Path, offset: int, log_dir: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        text = _read(output_path, offset)
        if READY_MARKER in text:
            return
        code = process.poll()
        if code is not None:
            raise StackError(
                f"clearloop run exited with code {code} before it was ready\n"
                + _describe_logs(output_path, log_dir)
            )
        if time.monotonic() > deadline:
            raise StackError(
                f"clearloop run was not ready within {timeout:.0f}s\n"
                + _describe_logs(output_path, log_dir)
            )
        time.sleep(0.05)


def _terminate(process: subprocess.Popen[bytes], pids: set[int] | frozenset[int]) -> None:
    """After a failure: SIGTERM the runner, then SIGKILL it and anything it started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    _kill(process, pids)


def _kill(process: subprocess.Popen[bytes], pids: set[int] | frozenset[int]) -> None:
    """Last resort: SIGKILL the runner and every pid in ``pids`` that is still running."""
    if process.poll() is None:
        process.kill()
    for pid in alive(pids, grace=0):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _read(path: Path, offset: int = 0) -> str:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _describe_logs(output_path: Path, log_dir: Path) -> str:
    parts = [f"--- {output_path} ---\n{_read(output_path)[-_LOG_TAIL_CHARS:]}"]
    for log in sorted(log_dir.glob("*.log")):
        parts.append(f"--- {log} ---\n{_read(log)[-_LOG_TAIL_CHARS:]}")
    return "\n".join(parts)
