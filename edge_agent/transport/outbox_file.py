"""Opening the outbox file: directory, single-owner lock, WAL policy, and damaged-file salvage.

Why apart from Outbox: these are the start-up failure modes a user meets (a directory that
cannot be created, a second agent on the same file, a full or failing disk, a damaged file),
each with its own message and its own remedy, while Outbox itself only queues.

- Permissions and a second owner are configuration errors (ConfigError, exit 78).
- A full, read-only, failing or vanished file system is a StorageError: the file is healthy
  and is NEVER moved aside; Outbox keeps the agent running and retries (storage_faults.py).
- Only a file SQLite itself reports as malformed (or whose quick_check is not 'ok') is
  replaced: its readable rows are salvaged into a fresh file first (outbox_salvage.py), then
  it is renamed to ``<name>.corrupt-<epoch>`` with its -wal/-shm files, for forensics.

WAL policy: ``journal_size_limit`` truncates the WAL back to ``wal_limit_bytes`` after each
checkpoint reset and ``wal_autocheckpoint`` checkpoints at that size, so the WAL never holds
more than its share of ``outbox.max_bytes`` (the bound covers the files on disk).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edge_agent.errors import ConfigError, StorageError
from edge_agent.transport.outbox_salvage import SalvageReport, copy_readable_rows
from edge_agent.transport.storage_faults import MalformedOutbox, is_malformed, is_storage_errno

logger = logging.getLogger(__name__)

SIDE_FILES = ("-wal", "-shm", "-journal")
PAGE_BYTES = 4096


@dataclass
class OpenedOutbox:
    """An open, checked outbox file and the lock that makes this process its only owner."""

    db: sqlite3.Connection
    lock_fd: int
    salvage: Optional[SalvageReport] = None


def open_outbox_file(
    path: Path, synchronous: str, schema: str, wal_limit_bytes: int
) -> OpenedOutbox:
    """Open (create, or salvage and replace when damaged) the outbox at ``path``.

    Raises ConfigError for what a person must fix, StorageError for a file system that is
    full, read-only or failing (retry later; the file is kept as it is).
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        if is_storage_errno(exc):
            raise StorageError(
                f"outbox.path: cannot create directory {path.parent}: {exc.strerror}",
                "free space or remount the file system read-write; the agent retries",
            ) from exc
        raise ConfigError(
            f"outbox.path: cannot create directory {path.parent}: {exc.strerror}",
            "set outbox.path to a file in a writable directory (e.g. under StateDirectory=)",
        ) from exc
    lock_fd = _lock(path)
    try:
        try:
            return OpenedOutbox(_connect(path, synchronous, schema, wal_limit_bytes), lock_fd)
        except sqlite3.Error as exc:
            if not is_malformed(exc):
                raise
            report = _salvage_and_replace(path, synchronous, schema, wal_limit_bytes, str(exc))
            db = _connect(path, synchronous, schema, wal_limit_bytes)
            return OpenedOutbox(db, lock_fd, report)
    except sqlite3.Error as exc:
        release_lock(lock_fd)
        raise StorageError(
            f"outbox.path: cannot open {path}: {exc}",
            "free space on its file system or check the drive; the agent keeps running, "
            "refuses new durable messages meanwhile and retries on its own",
        ) from exc
    except OSError as exc:
        release_lock(lock_fd)
        if is_storage_errno(exc):
            raise StorageError(
                f"outbox.path: cannot write {path}: {exc.strerror}",
                "free space or remount the file system read-write; the agent retries",
            ) from exc
        raise ConfigError(
            f"outbox.path: cannot use {path}: {exc.strerror}",
            "give the agent's user write access to the outbox directory",
        ) from exc
    except BaseException:
        release_lock(lock_fd)
        raise


def open_reader(path: Path) -> sqlite3.Connection:
    """A second connection, used for reads only: in WAL mode it sees committed data only."""
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)


def release_lock(lock_fd: int) -> None:
    """Release the single-owner lock taken by open_outbox_file."""
    if lock_fd >= 0:
        os.close(lock_fd)


def files_bytes(path: Path) -> int:
    """Bytes the outbox occupies on disk now: database, WAL and shared-memory index."""
    total = 0
    for side in ("", "-wal", "-shm"):
        try:
            total += path.with_name(path.name + side).stat().st_size
        except OSError:
            pass
    return total


def _lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        if is_storage_errno(exc):
            raise StorageError(
                f"outbox.path: cannot create {lock_path}: {exc.strerror}",
                "free space or remount the file system read-write; the agent retries",
            ) from exc
        raise ConfigError(
            f"outbox.path: cannot create {lock_path}: {exc.strerror}",
            "set outbox.path to a file in a writable directory",
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        raise ConfigError(
            f"outbox.path: {path} is in use by another edge-agent process",
            "stop the other agent, or give each agent its own outbox.path",
        ) from exc
    return fd


def _connect(
    path: Path, synchronous: str, schema: str, wal_limit_bytes: int
) -> sqlite3.Connection:
    """Open in autocommit mode (explicit BEGIN where needed), WAL, and verify integrity."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise MalformedOutbox(f"integrity check failed: {check}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes)}")
        db.execute(f"PRAGMA wal_autocheckpoint={max(1, wal_limit_bytes // PAGE_BYTES)}")
        db.executescript(schema)
        columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
        if "rejected" not in columns or "payload" not in columns:
            raise MalformedOutbox(f"unexpected outbox table columns {sorted(columns)}")
    except BaseException:
        db.close()
        raise
    path.chmod(0o600)
    return db


def _remove_set(path: Path) -> None:
    for side in ("", *SIDE_FILES):
        path.with_name(path.name + side).unlink(missing_ok=True)


def _salvage_and_replace(
    path: Path, synchronous: str, schema: str, wal_limit_bytes: int, reason: str
) -> SalvageReport:
    """Copy readable rows into a fresh file beside it, move the damaged one aside, swap."""
    fresh_path = path.with_name(path.name + ".salvage")
    _remove_set(fresh_path)
    fresh = _connect(fresh_path, synchronous, schema, wal_limit_bytes)
    try:
        salvaged, unreadable = copy_readable_rows(path, fresh)
    except BaseException:
        fresh.close()
        _remove_set(fresh_path)
        raise
    fresh.close()  # the last connection checkpoints: the rows are in the main file now
    target = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    for side in ("", *SIDE_FILES):
        source = path.with_name(path.name + side)
        if source.exists():
            source.rename(target.with_name(target.name + side))
    fresh_path.rename(path)
    logger.error(
        "outbox %s is damaged (%s): salvaged %d queued message(s) into a fresh outbox (they "
        "are sent first, flagged replayed); %d could not be read and are lost. The damaged "
        "file was moved to %s.",
        path,
        reason,
        salvaged,
        unreadable,
        target,
    )
    return SalvageReport(salvaged, unreadable, target)
