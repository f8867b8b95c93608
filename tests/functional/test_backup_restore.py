"""`clearloop backup` and `clearloop restore` on the SQLite store (SPEC section 8).

A backup taken while another thread keeps writing tickets holds every ticket acknowledged
before the backup started and passes SQLite's integrity check; restoring it gives a store with
those tickets. Files that are not intact Clearloop databases of this or an older schema are
refused with a message and exit status 1, and nothing is replaced; so is a restore while a
portal runs on the data folder.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib import cli
from chalicelib.runner import STACK_FILE
from chalicelib.store.sqlite import MIGRATIONS, SqliteStore
from chalicelib.store.sqlite_backup import BEFORE_RESTORE_SUFFIX, inspect
from tests.support.tickets import T0, make_event, make_ticket, number


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data folder the commands act on (SQLite, nothing from the caller's environment)."""
    folder = tmp_path / "data"
    for name in list(os.environ):
        if name.startswith("CLEARLOOP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CLEARLOOP_DATA_DIR", str(folder))
    monkeypatch.setenv("CLEARLOOP_STORE", "sqlite")
    return folder


@pytest.fixture
def store(data_dir: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(data_dir / "clearloop.db")
    s.migrate()
    yield s
    s.close()


def add_tickets(store: SqliteStore, first: int, count: int) -> list[str]:
    numbers = [number(i) for i in range(first, first + count)]
    for n in numbers:
        store.create_ticket(make_ticket(n), [make_event(n, 1, T0)])
    return numbers


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_backup_while_tickets_are_written_holds_every_acknowledged_one(
    store: SqliteStore, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        i = 1000
        try:
            while not stop.is_set():
                n = number(i)
                store.create_ticket(make_ticket(n), [make_event(n, 1, T0)])
                with lock:
                    acknowledged.append(n)  # create_ticket returned: the commit is done
                i += 1
        except BaseException as e:
            failures.append(e)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(acknowledged) < 50 and thread.is_alive():
            time.sleep(0.01)
        with lock:
            before = list(acknowledged)
        target = tmp_path / "backups" / "clearloop.db"
        code, out, err = run(capsys, "backup", str(target))
        with lock:
            during = len(acknowledged)
        while len(acknowledged) < during + 20 and thread.is_alive():
            time.sleep(0.01)  # the portal keeps writing after the backup, unharmed
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures, failures
    assert len(acknowledged) >= during + 20  # the writer went on through and after the backup
    assert code == 0, err
    assert "integrity check ok" in out
    assert target.stat().st_mode & 0o777 == 0o600
    assert not list(target.parent.glob(".*"))  # no temporary file left behind

    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        saved = {row[0] for row in conn.execute("SELECT number FROM tickets")}
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert set(before) <= saved
    assert events == len(saved)  # each ticket with its event: no half-copied transaction
    assert saved <= set(acknowledged)

    # Restored into another data folder, the store serves every acknowledged ticket.
    other = tmp_path / "other"
    code, out, err = run(capsys, "restore", str(target), "--data-dir", str(other))
    assert code == 0, err
    restored = SqliteStore(other / "clearloop.db")
    try:
        for n in before:
            view = restored.get_ticket(n)
            assert view is not None, n
            assert view.ticket == make_ticket(n)
    finally:
        restored.close()
    assert not (other / f"clearloop.db{BEFORE_RESTORE_SUFFIX}").exists()  # nothing was there


def test_restore_keeps_the_replaced_database(
    store: SqliteStore, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = add_tickets(store, 1, 3)
    backup = tmp_path / "monday.db"
    assert run(capsys, "backup", str(backup))[0] == 0
    later = add_tickets(store, 10, 2)  # written after the backup, still in the WAL
    store.close()

    code, out, err = run(capsys, "restore", str(backup))
    assert code == 0, err
    assert "restored" in out
    assert "3 tickets" in out
    database = data_dir / "clearloop.db"
    kept = data_dir / f"clearloop.db{BEFORE_RESTORE_SUFFIX}"
    assert f"kept as {kept}" in out
    assert inspect(database).tickets == 3
    assert inspect(kept).tickets == 5  # the replaced database, its WAL included
    reopened = SqliteStore(database)
    try:
        assert all(reopened.get_ticket(n) is not None for n in first)
        assert all(reopened.get_ticket(n) is None for n in later)
        add_tickets(reopened, 20, 1)  # the restored store takes writes
    finally:
        reopened.close()


def _database_at_version(path: Path, version: int) -> None:
    with sqlite3.connect(path) as conn:
        for migration in MIGRATIONS[:version]:
            conn.executescript(migration)
        conn.execute(f"PRAGMA user_version = {version}")


def test_an_older_backup_is_migrated(
    store: SqliteStore, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.db"
    _database_at_version(old, 1)
    with sqlite3.connect(old) as conn:
        conn.execute(
            "INSERT INTO tickets (number, status, department, priority, submitted_at, "
            "updated_at, version, doc) VALUES ('FB-OLD', 'received', 'd', 'P2', 't', 't', 1, '{}')"
        )
    code, out, err = run(capsys, "restore", str(old))
    assert code == 0, err
    assert f"migrated from schema version 1 to {len(MIGRATIONS)}" in out
    info = inspect(data_dir / "clearloop.db")
    assert (info.schema_version, info.tickets) == (len(MIGRATIONS), 1)


def _not_sqlite(path: Path) -> None:
    path.write_text("name,email\nann,ann@example.org\n")


def _other_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("PRAGMA user_version = 3")


def _newer_schema(path: Path) -> None:
    _database_at_version(path, len(MIGRATIONS))
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")


def _damaged(path: Path) -> None:
    _database_at_version(path, len(MIGRATIONS))
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO events (number, seq, at, doc) VALUES (?, ?, 't', ?)",
            [("FB-X", i, "x" * 500) for i in range(200)],
        )
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 3, len(data) - page, page):
        data[offset + 8 : offset + 40] = b"\xff" * 32  # scribble over page headers
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (_not_sqlite, "is not an SQLite database"),
        (_other_database, "not a Clearloop database"),
        (_newer_schema, f"newer than this Clearloop's ({len(MIGRATIONS)})"),
        (_damaged, "damaged"),
        (None, "no such file"),
    ],
    ids=["not-sqlite", "other-database", "newer-schema", "damaged", "missing"],
)
def test_a_bad_file_is_refused_and_nothing_is_replaced(
    store: SqliteStore,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_file: object,
    message: str,
) -> None:
    add_tickets(store, 1, 2)
    store.close()
    database = data_dir / "clearloop.db"
    before = digest(database)
    bad = tmp_path / "bad.db"
    if callable(make_file):
        make_file(bad)
    code, out, err = run(capsys, "restore", str(bad))
    assert code == 1
    assert err.startswith("clearloop restore: ")
    assert message in err
    assert out == ""
    assert digest(database) == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["clearloop.db"]


def test_restore_refuses_while_the_portal_runs_on_the_data_folder(
    store: SqliteStore, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tickets(store, 1, 1)
    backup = tmp_path / "b.db"
    assert run(capsys, "backup", str(backup))[0] == 0
    database = data_dir / "clearloop.db"
    before = digest(database)
    # A live process wrote stack.json (this test's own pid stands in for the runner).
    (data_dir / STACK_FILE).write_text(f'{{"store": "sqlite", "pid": {os.getpid()}}}')
    code, _, err = run(capsys, "restore", str(backup))
    assert code == 1
    assert f"the portal is running on this data folder (pid {os.getpid()}" in err
    assert digest(database) == before
    # A stack that ended without removing its file does not block a restore.
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    (data_dir / STACK_FILE).write_text(f'{{"store": "sqlite", "pid": {ended.stdout.strip()}}}')
    code, _, err = run(capsys, "restore", str(backup))
    assert code == 0, err


def test_backup_refuses_what_it_cannot_do(
    store: SqliteStore,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = data_dir / "clearloop.db"
    code, _, err = run(capsys, "backup", str(database))
    assert (code, err.strip()) == (
        1,
        "clearloop backup: the backup file must not be the database itself",
    )
    code, _, err = run(capsys, "backup", str(tmp_path))
    assert code == 1
    assert "is a folder" in err
    code, _, err = run(
        capsys, "backup", str(tmp_path / "x.db"), "--data-dir", str(tmp_path / "none")
    )
    assert code == 1
    assert "no database to back up" in err
    monkeypatch.setenv("CLEARLOOP_STORE", "dynamodb")
    code, _, err = run(capsys, "backup", str(tmp_path / "x.db"))
    assert code == 2
    assert "point-in-time recovery" in err
