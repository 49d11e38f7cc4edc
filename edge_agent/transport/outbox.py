"""Outbox: the on-disk queue (SQLite, WAL) of state and event messages not yet acknowledged.

Why our own store: paho keeps unacknowledged messages in RAM only, so a restart loses them
(docs/reliability.md 0.1). A row is committed here *before* the message is handed to paho and
deleted only after the broker's PUBACK (``DurablePublisher`` decides when). Ids grow with
every append, so id order is publish order and replay after a reconnect keeps it.

Durability (PRAGMA synchronous, WAL journal): 'FULL' fsyncs the WAL on every commit, so a
committed row survives power loss; 'NORMAL' syncs only at checkpoints: a committed row survives
a crash or SIGKILL (the WAL is in the page cache) but the last commits may be lost on power
loss. Either way the file stays consistent.

Bounds: rows, payload bytes and age; when full, 'drop_oldest' deletes from the front and
'refuse_new' refuses the append. Every message lost this way is counted (``OutboxCounters``).
Rows the broker refused (MQTT 5 reason code >= 0x80) are kept, marked ``rejected``, never
resent automatically, and age out like the rest.

Thread-safety: one connection shared under a lock (producers append, the link thread reads and
deletes); every method is short.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from edge_agent.settings.outbox import OutboxSettings
from edge_agent.transport.outbox_file import open_outbox_file, release_lock
from edge_agent.transport.publisher import OutgoingMessage

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    created_s REAL NOT NULL,
    size INTEGER NOT NULL,
    rejected INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created_s);
"""
_CHUNK = 500  # ids per statement, below SQLite's default limit of 999 variables


@dataclass(frozen=True)
class OutboxRow:
    """One queued message, as read back for sending."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    created_s: float


@dataclass(frozen=True)
class OutboxCounters:
    """Contents now, plus what was lost since open()."""

    depth: int
    """Rows waiting to be sent or acknowledged (rejected rows not included)."""
    rows: int
    """All rows, rejected included (what the limits apply to)."""
    bytes: int
    oldest_age_s: Optional[float]
    dropped: int
    """Deleted unsent by drop_oldest."""
    refused: int
    """Appends refused: refuse_new when full, bigger than max_bytes, or a write error."""
    expired: int
    rejected: int
    """Rows the broker refused since open()."""


class Outbox:
    """A bounded, ordered, crash-safe message queue in one SQLite file."""

    def __init__(self, settings: OutboxSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._db: Optional[sqlite3.Connection] = None
        self._lock_fd = -1
        self._rows = self._bytes = self._rejected_rows = 0
        self._dropped = self._refused = self._expired = self._rejected = 0
        self.last_error = ""

    def open(self) -> None:
        """Open (or create, or move aside when corrupt) the file; raises ConfigError."""
        self._db, self._lock_fd = open_outbox_file(
            self._settings.path, self._settings.synchronous, _SCHEMA
        )
        row = self._db.execute(
            "SELECT COUNT(*), TOTAL(size), COUNT(rejected) FROM outbox"
        ).fetchone()
        self._rows, self._bytes, self._rejected_rows = int(row[0]), int(row[1]), int(row[2])
        if self._rows:
            logger.info(
                "outbox %s holds %d message(s) from before; they are sent first",
                self._settings.path,
                self._rows - self._rejected_rows,
            )

    def close(self) -> None:
        """Checkpoint and close; the file keeps whatever is still queued."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                db.close()
            release_lock(self._lock_fd)
            self._lock_fd = -1

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("Outbox.open() has not run")
        return self._db

    def append(self, msg: OutgoingMessage) -> Optional[int]:
        """Commit one message; returns its id, or None when it was refused (counted)."""
        size = len(msg.payload)
        with self._lock:
            db = self._conn()
            try:
                if not self._make_room_locked(db, size):
                    self._refused += 1
                    return None
                cursor = db.execute(
                    "INSERT INTO outbox (topic, payload, qos, retain, created_s, size)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (msg.topic, msg.payload, msg.qos, int(msg.retain), self._clock(), size),
                )
            except sqlite3.Error as exc:  # disk full, I/O error: refuse, never crash the caller
                self._refused += 1
                self.last_error = f"outbox write failed: {exc}"
                return None
            self._rows += 1
            self._bytes += size
            return int(cursor.lastrowid or 0)

    def _make_room_locked(self, db: sqlite3.Connection, size: int) -> bool:
        settings = self._settings
        if size > settings.max_bytes:
            self.last_error = f"message of {size} bytes exceeds outbox.max_bytes"
            return False
        if self._rows + 1 <= settings.max_rows and self._bytes + size <= settings.max_bytes:
            return True
        if settings.overflow == "refuse_new":
            self.last_error = "outbox full (overflow = refuse_new): new message refused"
            return False
        victims: List[int] = []
        rows, total = self._rows, self._bytes
        for row_id, row_size in db.execute("SELECT id, size FROM outbox ORDER BY id"):
            if rows + 1 <= settings.max_rows and total + size <= settings.max_bytes:
                break
            victims.append(int(row_id))
            rows -= 1
            total -= int(row_size)
        count = len(victims) - self._delete_locked(db, victims, counted=True)
        self._dropped += count
        self.last_error = f"outbox full (overflow = drop_oldest): {count} oldest dropped"
        return True

    def _delete_locked(self, db: sqlite3.Connection, ids: Sequence[int], counted: bool) -> int:
        """Delete rows by id in one transaction; returns how many rejected rows went."""
        rejected_gone = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                count, total, rejected = db.execute(
                    f"SELECT COUNT(*), TOTAL(size), COUNT(rejected) FROM outbox"  # noqa: S608
                    f" WHERE id IN ({marks})",
                    chunk,
                ).fetchone()
                db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)  # noqa: S608
                self._rows -= int(count)
                self._bytes -= int(total)
                self._rejected_rows -= int(rejected)
                rejected_gone += int(rejected)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return rejected_gone if counted else 0

    def fetch(self, after_id: int, limit: int) -> List[OutboxRow]:
        """Up to ``limit`` sendable rows with id > ``after_id``, oldest first."""
        with self._lock:
            cursor = self._conn().execute(
                "SELECT id, topic, payload, qos, retain, created_s FROM outbox"
                " WHERE id > ? AND rejected IS NULL ORDER BY id LIMIT ?",
                (after_id, limit),
            )
            return [
                OutboxRow(int(i), str(t), bytes(p), int(q), bool(r), float(c))
                for i, t, p, q, r, c in cursor
            ]

    def max_id(self) -> int:
        """Highest id in use (0 when empty): rows up to it existed before a reconnect."""
        with self._lock:
            row = self._conn().execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()
            return int(row[0])

    def delete(self, ids: Sequence[int]) -> None:
        """Remove acknowledged rows (ids already gone are ignored)."""
        if ids:
            with self._lock:
                self._delete_locked(self._conn(), ids, counted=False)

    def reject(self, row_id: int, reason_code: int) -> None:
        """Keep a row the broker refused, out of the send order, for inspection and expiry."""
        with self._lock:
            cursor = self._conn().execute(
                "UPDATE outbox SET rejected = ? WHERE id = ? AND rejected IS NULL",
                (reason_code, row_id),
            )
            if cursor.rowcount:
                self._rejected_rows += 1
                self._rejected += 1

    def expire(self) -> int:
        """Delete rows older than max_age_s; returns (and counts) how many were unsent."""
        cutoff = self._clock() - self._settings.max_age_s
        with self._lock:
            db = self._conn()
            ids = [
                int(i)
                for (i,) in db.execute("SELECT id FROM outbox WHERE created_s < ?", (cutoff,))
            ]
            if not ids:
                return 0
            self._delete_locked(db, ids, counted=False)
            self._expired += len(ids)
            self.last_error = f"{len(ids)} message(s) older than outbox.max_age_s expired"
            return len(ids)

    def counters(self) -> OutboxCounters:
        """Current contents and loss counters."""
        with self._lock:
            oldest: Optional[Tuple[float]] = (
                self._conn()
                .execute("SELECT created_s FROM outbox WHERE rejected IS NULL ORDER BY id LIMIT 1")
                .fetchone()
            )
            age = None if oldest is None else max(0.0, self._clock() - float(oldest[0]))
            return OutboxCounters(
                depth=self._rows - self._rejected_rows,
                rows=self._rows,
                bytes=self._bytes,
                oldest_age_s=age,
                dropped=self._dropped,
                refused=self._refused,
                expired=self._expired,
                rejected=self._rejected,
            )

    def depth(self) -> int:
        """Rows still to be delivered (cheap: no query)."""
        with self._lock:
            return self._rows - self._rejected_rows
