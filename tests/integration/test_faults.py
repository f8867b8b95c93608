"""The store fails in the middle of a short load run on the real local stack: the API answers
503 with Retry-After (never a 500), and once the store is back every acknowledged ticket is
there exactly once (``scripts/load.py`` proves it: lookups with each key, then the staff CSV
export matched against the marker in every subject it sent).

- SQLite: the test holds the database's write lock (``BEGIN IMMEDIATE`` on a connection of its
  own) for longer than the adapter's busy timeout, which is exactly "database is locked". (Making
  the file read-only would prove nothing here: CI runs as root, which writes to it anyway.)
- DynamoDB: the stack's moto server (found among the runner's children by its command line) is
  stopped with SIGSTOP, so requests to it hang until botocore's timeouts, then resumed with
  SIGCONT. Killing it would take its in-memory data with it, and the runner stops the whole
  stack when a child dies.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.load import Options, Report, run_load
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.integration

BUSY_TIMEOUT_SECONDS = 5  # store/sqlite.py
LOCK_SECONDS = BUSY_TIMEOUT_SECONDS + 3
# botocore: 3 tries of up to 5 s (read timeout) each, then RetryingStore's budget is spent.
MOTO_PAUSE_SECONDS = 19.0


class Window:
    """Calls ``start`` once ``at`` seconds into the run and ``stop`` ``length`` seconds later."""

    def __init__(
        self, at: float, length: float, start: Callable[[], None], stop: Callable[[], None]
    ):
        self.at, self.length = at, length
        self.start, self.stop = start, stop
        self.state = "before"

    def __call__(self, elapsed: float) -> None:
        if self.state == "before" and elapsed >= self.at:
            self.state = "during"
            self.start()
        elif self.state == "during" and elapsed >= self.at + self.length:
            self.state = "after"
            self.stop()

    def close(self) -> None:
        if self.state == "during":
            self.state = "after"
            self.stop()


def load(stack: Stack, seconds: float, window: Window) -> Report:
    options = Options(
        api=stack.api_url,
        clients=8,
        seconds=seconds,
        retry_rate=0.2,
        lookup_rate=0.3,
        data_dir=stack.data_dir,
        seed=7,
    )
    try:
        return run_load(options, during=window, out=print)  # shown when a test fails
    finally:
        window.close()


def assert_survived(report: Report, stack: Stack) -> None:
    summary = f"{report}\n{stack.logs()[-3000:]}"
    assert report.unavailable > 0, "the fault never showed: " + summary
    assert report.server_errors == 0, summary
    assert report.retry_after_missing == 0, summary
    assert not report.lost, summary
    assert not report.duplicated, summary
    assert not report.unexpected, summary
    assert not report.retry_mismatches, summary
    # Real work got through around the fault (about one ticket per client at least; a quiet
    # machine acknowledges several times more, a loaded one far fewer during a 19 s outage).
    assert report.acknowledged >= 8, summary
    assert report.in_doubt == 0, summary  # the clients' retries with the same key resolved all


def test_sqlite_locked_mid_run_is_503_then_nothing_is_lost(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", site_dir=tmp_path / "site") as stack:
        holder: list[sqlite3.Connection] = []

        def lock() -> None:
            conn = sqlite3.connect(stack.data_dir / "clearloop.db", isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")  # the write lock: writers wait, then "locked"
            holder.append(conn)

        def unlock() -> None:
            conn = holder.pop()
            conn.execute("ROLLBACK")
            conn.close()

        report = load(stack, 14.0, Window(2.0, LOCK_SECONDS, lock, unlock))
        assert "503" in report.statuses["submit"], report.statuses
        assert_survived(report, stack)


def moto_pid(stack: Stack) -> int:
    for pid in stack.child_pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"moto_server.py") for part in cmdline):
            return pid
    raise AssertionError(f"no moto_server.py among the runner's children:\n{stack.logs()}")


def test_moto_stopped_mid_run_is_503_then_nothing_is_lost(tmp_path: Path) -> None:
    with running_stack(tmp_path / "data", store="dynamodb", site_dir=tmp_path / "site") as stack:
        pid = moto_pid(stack)
        window = Window(
            2.0,
            MOTO_PAUSE_SECONDS,
            lambda: os.kill(pid, signal.SIGSTOP),
            lambda: os.kill(pid, signal.SIGCONT),
        )
        report = load(stack, MOTO_PAUSE_SECONDS + 6.0, window)
        assert_survived(report, stack)


def test_short_lived_threads_do_not_leak_database_connections(tmp_path: Path) -> None:
    import threading

    from chalicelib.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "leak.db")
    store.migrate()

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_fds()
    for _ in range(100):  # as chalice local does: one thread per client connection
        thread = threading.Thread(target=store.ping)
        thread.start()
        thread.join()
    try:
        assert open_fds() - before < 20
    finally:
        store.close()
