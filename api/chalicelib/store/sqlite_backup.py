"""Online backup and restore of the SQLite store (SPEC section 8: one machine, no AWS).

``backup`` copies the live database with SQLite's backup API in one step: the copy is the
database as of one instant (WAL mode lets the portal keep reading and writing meanwhile), every
transaction committed before the backup started is in it, and none is half in it. The copy is
checked (``PRAGMA integrity_check``, a Clearloop schema version this code knows), made a single
self-contained file (rollback journal, not WAL) and only then renamed into place, readable by
its owner only (0600): a backup file either is complete and verified or does not exist.

``restore`` refuses, before touching anything, a file that is not an SQLite database, fails the
integrity check, is not a Clearloop database or comes from a newer Clearloop; and it refuses to
run while ``clearloop run`` is serving the same data folder (its ``stack.json`` names a live
process). It then builds the new database beside the current one (a copy of the backup,
migrated to this code's schema and checked again), keeps the current database as
``<name>.before-restore`` and renames the new one into place.

Example::

    info = backup(Path(".local/clearloop.db"), Path("/backups/clearloop-2026-11-25.db"))
    info.tickets, info.schema_version
    done = restore(Path("/backups/clearloop-2026-11-25.db"), Path(".local/clearloop.db"),
                   running_file=Path(".local/stack.json"))
    done.before_restore   # .local/clearloop.db.before-restore (None if there was no database)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from chalicelib.store.sqlite import MIGRATIONS, SqliteStore

BEFORE_RESTORE_SUFFIX: Final = ".before-restore"
_HEADER: Final = b"SQLite format 3\x00"
# Created by the first migration: a file without them is not a Clearloop database.
_CLEARLOOP_TABLES: Final = frozenset({"tickets", "events", "idempotency"})
_BUSY_TIMEOUT_S: Final = 30.0


class BackupError(Exception):
    """The backup or restore was refused or failed; nothing was replaced. The message says why."""


@dataclass(frozen=True)
class BackupInfo:
    """A verified Clearloop database file."""

    path: Path
    schema_version: int
    tickets: int
    size: int


@dataclass(frozen=True)
class RestoreInfo:
    """What a restore did."""

    database: Path
    restored_from: BackupInfo
    schema_version: int  # after migrating the backup to this code's schema
    before_restore: Path | None  # the replaced database, kept; None if there was none


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@contextlib.contextmanager
def _temporary_beside(target: Path) -> Iterator[Path]:
    """A new empty file (mode 0600) in ``target``'s folder, removed unless renamed away."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            _remove(leftover)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check(conn: sqlite3.Connection, path: Path) -> BackupInfo:
    """``conn``'s database as a Clearloop database this code can use, or BackupError."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise BackupError(f"{path} is damaged (integrity check: {'; '.join(problems[:3])})")
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version < 1 or not _CLEARLOOP_TABLES.issubset(tables):
            raise BackupError(f"{path} is an SQLite database but not a Clearloop database")
        if version > len(MIGRATIONS):
            raise BackupError(
                f"{path} has schema version {version}, newer than this Clearloop's "
                f"({len(MIGRATIONS)}): restore it with the Clearloop version that made it"
            )
        tickets = int(conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} cannot be read as a database: {e}") from e
    return BackupInfo(path, version, tickets, path.stat().st_size)


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as f:
        if f.read(len(_HEADER)) != _HEADER:
            raise BackupError(f"{path} is not an SQLite database")
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S
        )
    except sqlite3.Error as e:
        raise BackupError(f"{path} cannot be opened: {e}") from e
    return conn


def inspect(path: Path) -> BackupInfo:
    """Check ``path`` is an intact Clearloop database this code can read, without changing it."""
    path = Path(path)
    conn = _open_read_only(path)
    try:
        return _check(conn, path)
    finally:
        conn.close()


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy ``source``'s database into the (empty) file ``target`` in one backup step, as a
    single self-contained file."""
    dest = sqlite3.connect(target, isolation_level=None)
    try:
        # One step (pages=-1): the whole database as of one read snapshot. In WAL mode the
        # portal's writers carry on; their later commits are simply not in this copy.
        source.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()


def backup(database: Path, target: Path) -> BackupInfo:
    """Copy the live ``database`` to ``target`` (replaced if it exists), verified and 0600."""
    database, target = Path(database), Path(target)
    if target.resolve() == database.resolve():
        raise BackupError("the backup file must not be the database itself")
    if target.is_dir():
        raise BackupError(f"{target} is a folder: name the backup file")
    if not database.is_file():
        raise BackupError(f"{database}: no database to back up (run `clearloop init-store`?)")
    try:
        source = sqlite3.connect(database, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as e:
        raise BackupError(f"{database} cannot be opened: {e}") from e
    try:
        with _temporary_beside(target) as tmp:
            try:
                _copy(source, tmp)
            except sqlite3.DatabaseError as e:
                raise BackupError(f"{database} cannot be backed up: {e}") from e
            check = sqlite3.connect(tmp)
            try:
                info = _check(check, tmp)
            finally:
                check.close()
            os.chmod(tmp, 0o600)
            _fsync(tmp)
            os.replace(tmp, target)
    finally:
        source.close()
    _fsync(target.parent)
    return BackupInfo(target, info.schema_version, info.tickets, target.stat().st_size)


def running_pid(running_file: Path) -> int | None:
    """The pid of the live ``clearloop run`` that wrote ``running_file`` (its ``stack.json``),
    or None when there is no such file or its process has ended."""
    try:
        pid = int(json.loads(Path(running_file).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stack that did not stop cleanly left its file behind
    except PermissionError:
        return pid  # alive, another user's
    return pid


def restore(source: Path, database: Path, *, running_file: Path | None = None) -> RestoreInfo:
    """Replace ``database`` with the backup ``source``, migrated to this code's schema.

    Refused (BackupError, nothing changed) when ``running_file`` names a live process or
    ``source`` is not an intact Clearloop database of this or an older schema.
    """
    source, database = Path(source), Path(database)
    if running_file is not None:
        pid = running_pid(running_file)
        if pid is not None:
            raise BackupError(
                f"the portal is running on this data folder (pid {pid}, {running_file}): "
                "stop it first (Ctrl-C where `make run` runs)"
            )
    if source.resolve() == database.resolve():
        raise BackupError("the backup file is the database itself")
    reader = _open_read_only(source)
    try:
        restored_from = _check(reader, source)
        with _temporary_beside(database) as tmp:
            try:
                _copy(reader, tmp)
            except sqlite3.DatabaseError as e:
                raise BackupError(f"{source} cannot be copied: {e}") from e
            store = SqliteStore(tmp)
            try:
                version = store.migrate()  # an older backup is brought up to date here
            except Exception as e:
                raise BackupError(f"{source} cannot be migrated: {e}") from e
            finally:
                store.close()
            check = sqlite3.connect(tmp)
            try:
                _check(check, tmp)
            finally:
                check.close()
            os.chmod(tmp, 0o600)
            _fsync(tmp)
            before = _keep_current(database)
            # The replaced database's WAL must not be applied to the restored one.
            _remove(Path(f"{database}-wal"))
            _remove(Path(f"{database}-shm"))
            os.replace(tmp, database)
    finally:
        reader.close()
    _fsync(database.parent)
    return RestoreInfo(database, restored_from, version, before)


def _keep_current(database: Path) -> Path | None:
    """Copy the current database (WAL included) to ``<database>.before-restore``."""
    if not database.exists():
        return None
    kept = database.with_name(database.name + BEFORE_RESTORE_SUFFIX)
    try:
        current = sqlite3.connect(database, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as e:
        raise BackupError(f"{database} cannot be opened to keep a copy: {e}") from e
    try:
        with _temporary_beside(kept) as tmp:
            try:
                _copy(current, tmp)
            except sqlite3.DatabaseError:
                # A damaged database (perhaps why it is being restored) is kept as it is.
                current.close()
                _copy_raw(database, tmp, kept)
            os.chmod(tmp, 0o600)
            _fsync(tmp)
            os.replace(tmp, kept)
    finally:
        current.close()
    return kept


def _copy_raw(database: Path, tmp: Path, kept: Path) -> None:
    """The database's bytes into ``tmp`` (renamed to ``kept`` next), its WAL to ``kept-wal``
    (SQLite applies it when ``kept`` is opened)."""
    shutil.copyfile(database, tmp)
    wal = Path(f"{database}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{kept}-wal"))
