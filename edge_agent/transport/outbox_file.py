"""Opening the outbox file: directory, single-owner lock, WAL mode, and corruption recovery.

Why apart from Outbox: these are the start-up failure modes a user meets (a directory that
cannot be created, a second agent on the same file, a damaged file after a disk fault), each
with its own message, while Outbox itself only queues.

A corrupt file (not a database, or ``PRAGMA quick_check`` not 'ok') is renamed to
``<name>.corrupt-<epoch>`` together with its -wal/-shm files and a fresh one is created; nothing
else is touched, so the damaged data stays available for forensics.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Tuple

from edge_agent.errors import ConfigError

logger = logging.getLogger(__name__)

_SIDE_FILES = ("-wal", "-shm")


def open_outbox_file(path: Path, synchronous: str, schema: str) -> Tuple[sqlite3.Connection, int]:
    """Return (connection, lock fd) for the outbox at ``path``; raises ConfigError."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"outbox.path: cannot create directory {path.parent}: {exc.strerror}",
            "set outbox.path to a file in a writable directory (e.g. under StateDirectory=)",
        ) from exc
    lock_fd = _lock(path)
    try:
        try:
            return _connect(path, synchronous, schema), lock_fd
        except sqlite3.DatabaseError as exc:
            _move_aside(path, str(exc))
            return _connect(path, synchronous, schema), lock_fd
    except sqlite3.Error as exc:
        release_lock(lock_fd)
        raise ConfigError(
            f"outbox.path: cannot open {path}: {exc}",
            "check the file system (free space, permissions) or set outbox.path elsewhere",
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


def _lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
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


def _connect(path: Path, synchronous: str, schema: str) -> sqlite3.Connection:
    """Open in autocommit mode (explicit BEGIN where needed), WAL, and verify integrity."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {check}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.executescript(schema)
        columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
        if "rejected" not in columns or "payload" not in columns:
            raise sqlite3.DatabaseError(f"unexpected outbox table columns {sorted(columns)}")
    except BaseException:
        db.close()
        raise
    path.chmod(0o600)
    return db


def _move_aside(path: Path, reason: str) -> None:
    suffix = f".corrupt-{int(time.time())}"
    target = path.with_name(path.name + suffix)
    for side in ("", *_SIDE_FILES):
        source = path.with_name(path.name + side)
        if source.exists():
            source.rename(path.with_name(path.name + suffix + side))
    logger.error(
        "outbox %s is damaged (%s); moved it to %s and started a fresh one. Messages in the "
        "damaged file are not sent; inspect it with the sqlite3 tool if they matter.",
        path,
        reason,
        target,
    )
