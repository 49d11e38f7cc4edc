"""Outbox: the on-disk queue (SQLite, WAL) of state and event messages not yet acknowledged.

Why our own store: paho keeps unacknowledged messages in RAM only, so a restart loses them
(docs/reliability.md 0.1). A row is committed here *before* the message is handed to paho and
deleted only after the broker's PUBACK (``DurablePublisher`` decides when). Ids grow with
every append, so id order is publish order and replay after a reconnect keeps it.

Group commit: ``commit()`` writes any number of new rows and acknowledged deletions in ONE
transaction, so one fsync covers them all (``OutboxWriter`` batches what producers staged
while the previous fsync was running). Reads (``fetch``, ``max_id``) use a second connection,
which in WAL mode sees only committed transactions: the sender can never send a row that is
not yet on disk.

Durability (PRAGMA synchronous, WAL journal): 'FULL' fsyncs the WAL at every commit, so a
committed row survives power loss; 'NORMAL' syncs only at checkpoints: a committed row survives
a crash or SIGKILL (the WAL is in the page cache) but the last commits may be lost on power
loss. Either way the file stays consistent.

Bounds: rows, payload bytes and age; when full, 'drop_oldest' deletes from the front and
'refuse_new' refuses the append. Every message lost this way is counted (``OutboxCounters``).
Rows the broker refused (MQTT 5 reason code >= 0x80) are kept, marked ``rejected``, never
resent automatically, and age out like the rest.

Thread-safety: writes are serialised by one lock (the writer thread commits, the link thread
rejects and expires); reads have their own connection and lock; counters a third, short one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Callable, List, Optional, Sequence, Tuple

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings.outbox import OutboxSettings
from edge_agent.transport.outbox_file import open_outbox_file, open_reader, release_lock
from edge_agent.transport.outbox_records import OutboxCounters, OutboxRow, Staged, Totals

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

class Outbox:
    """A bounded, ordered, crash-safe message queue in one SQLite file."""

    def __init__(self, settings: OutboxSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._lock = threading.Lock()  # guards _totals
        self._db: Optional[sqlite3.Connection] = None
        self._reader: Optional[sqlite3.Connection] = None
        self._lock_fd = -1
        self._totals = Totals()
        self.last_error = ""

    def open(self) -> None:
        """Open (or create, or move aside when corrupt) the file; raises ConfigError."""
        self._db, self._lock_fd = open_outbox_file(
            self._settings.path, self._settings.synchronous, _SCHEMA
        )
        self._reader = open_reader(self._settings.path)
        row = self._db.execute(
            "SELECT COUNT(*), TOTAL(size), COUNT(rejected) FROM outbox"
        ).fetchone()
        totals = self._totals
        totals.rows, totals.bytes, totals.rejected_rows = int(row[0]), int(row[1]), int(row[2])
        if totals.rows:
            logger.info(
                "outbox %s holds %d message(s) from before; they are sent first",
                self._settings.path,
                totals.rows - totals.rejected_rows,
            )

    def close(self) -> None:
        """Close both connections (the last one checkpoints); queued rows stay in the file."""
        with self._write_lock, self._read_lock:
            for db in (self._reader, self._db):
                if db is not None:
                    db.close()
            self._db = self._reader = None
            release_lock(self._lock_fd)
            self._lock_fd = -1

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("Outbox.open() has not run")
        return self._db

    def _read_conn(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("Outbox.open() has not run")
        return self._reader

    def append(self, msg: OutgoingMessage) -> Optional[int]:
        """Commit one message now; returns its id, or None when it was refused (counted)."""
        return self.commit([(msg, self._clock())], ())[0]

    def delete(self, ids: Sequence[int]) -> None:
        """Remove acknowledged rows now (ids already gone are ignored)."""
        if ids:
            self.commit((), ids)

    def commit(self, staged: Sequence[Staged], delete_ids: Sequence[int]) -> List[Optional[int]]:
        """In one transaction: delete acknowledged rows, then append ``staged`` in order.

        Returns the new ids (None where a message was refused; counted, ``last_error`` says
        why). A failing transaction (disk full, I/O error) refuses the whole batch.
        """
        with self._write_lock:
            db = self._conn()
            with self._lock:
                totals = self._totals.copy()
            ids: List[Optional[int]] = []
            db.execute("BEGIN IMMEDIATE")
            try:
                if delete_ids:
                    self._delete_in_tx(db, delete_ids, totals)
                for msg, created_s in staged:
                    ids.append(self._insert_in_tx(db, msg, created_s, totals))
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(db)
                self.last_error = f"outbox write failed: {exc}"
                with self._lock:
                    self._totals.refused += len(staged)
                return [None] * len(staged)
            except BaseException:
                self._rollback(db)
                raise
            with self._lock:
                self._totals = totals
            return ids

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (e.g. SQLITE_FULL)

    def _insert_in_tx(
        self, db: sqlite3.Connection, msg: OutgoingMessage, created_s: float, totals: Totals
    ) -> Optional[int]:
        size = len(msg.payload)
        if not self._make_room_in_tx(db, size, totals):
            totals.refused += 1
            return None
        cursor = db.execute(
            "INSERT INTO outbox (topic, payload, qos, retain, created_s, size)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (msg.topic, msg.payload, msg.qos, int(msg.retain), created_s, size),
        )
        totals.rows += 1
        totals.bytes += size
        return int(cursor.lastrowid or 0)

    def _make_room_in_tx(self, db: sqlite3.Connection, size: int, totals: Totals) -> bool:
        settings = self._settings
        if size > settings.max_bytes:
            self.last_error = f"message of {size} bytes exceeds outbox.max_bytes"
            return False
        if totals.rows + 1 <= settings.max_rows and totals.bytes + size <= settings.max_bytes:
            return True
        if settings.overflow == "refuse_new":
            self.last_error = "outbox full (overflow = refuse_new): new message refused"
            return False
        victims: List[int] = []
        rows, total = totals.rows, totals.bytes
        for row_id, row_size in db.execute("SELECT id, size FROM outbox ORDER BY id"):
            if rows + 1 <= settings.max_rows and total + size <= settings.max_bytes:
                break
            victims.append(int(row_id))
            rows -= 1
            total -= int(row_size)
        count = len(victims) - self._delete_in_tx(db, victims, totals)
        totals.dropped += count
        self.last_error = f"outbox full (overflow = drop_oldest): {count} oldest dropped"
        return True

    @staticmethod
    def _delete_in_tx(db: sqlite3.Connection, ids: Sequence[int], totals: Totals) -> int:
        """Delete rows by id; returns how many of them were rejected rows."""
        rejected_gone = 0
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            count, size, rejected = db.execute(
                f"SELECT COUNT(*), TOTAL(size), COUNT(rejected) FROM outbox"  # noqa: S608
                f" WHERE id IN ({marks})",
                chunk,
            ).fetchone()
            db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)  # noqa: S608
            totals.rows -= int(count)
            totals.bytes -= int(size)
            totals.rejected_rows -= int(rejected)
            rejected_gone += int(rejected)
        return rejected_gone

    def fetch(self, after_id: int, limit: int) -> List[OutboxRow]:
        """Up to ``limit`` committed, sendable rows with id > ``after_id``, oldest first."""
        with self._read_lock:
            cursor = self._read_conn().execute(
                "SELECT id, topic, payload, qos, retain, created_s FROM outbox"
                " WHERE id > ? AND rejected IS NULL ORDER BY id LIMIT ?",
                (after_id, limit),
            )
            return [
                OutboxRow(int(i), str(t), bytes(p), int(q), bool(r), float(c))
                for i, t, p, q, r, c in cursor
            ]

    def max_id(self) -> int:
        """Highest committed id (0 when empty): rows up to it existed before a reconnect."""
        with self._read_lock:
            row = self._read_conn().execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()
            return int(row[0])

    def reject(self, row_id: int, reason_code: int) -> None:
        """Keep a row the broker refused, out of the send order, for inspection and expiry."""
        with self._write_lock:
            cursor = self._conn().execute(
                "UPDATE outbox SET rejected = ? WHERE id = ? AND rejected IS NULL",
                (reason_code, row_id),
            )
            if cursor.rowcount:
                with self._lock:
                    self._totals.rejected_rows += 1
                    self._totals.rejected += 1

    def expire(self) -> int:
        """Delete rows older than max_age_s; returns (and counts) how many were unsent."""
        cutoff = self._clock() - self._settings.max_age_s
        with self._read_lock:
            ids = [
                int(i)
                for (i,) in self._read_conn().execute(
                    "SELECT id FROM outbox WHERE created_s < ?", (cutoff,)
                )
            ]
        if not ids:
            return 0
        self.commit((), ids)
        with self._lock:
            self._totals.expired += len(ids)
        self.last_error = f"{len(ids)} message(s) older than outbox.max_age_s expired"
        return len(ids)

    def counters(self) -> OutboxCounters:
        """Current contents and loss counters."""
        with self._read_lock:
            oldest: Optional[Tuple[float]] = (
                self._read_conn()
                .execute("SELECT created_s FROM outbox WHERE rejected IS NULL ORDER BY id LIMIT 1")
                .fetchone()
            )
        age = None if oldest is None else max(0.0, self._clock() - float(oldest[0]))
        with self._lock:
            totals = self._totals
            return OutboxCounters(
                depth=totals.rows - totals.rejected_rows,
                rows=totals.rows,
                bytes=totals.bytes,
                oldest_age_s=age,
                dropped=totals.dropped,
                refused=totals.refused,
                expired=totals.expired,
                rejected=totals.rejected,
            )

    def depth(self) -> int:
        """Committed rows still to be delivered (cheap: no query)."""
        with self._lock:
            return self._totals.rows - self._totals.rejected_rows
