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

Storage faults (a full, read-only, failing or vanished file system) are never corruption:
the file is kept, new durable messages are refused (counted, one warning per 30 s), queued
ones stay, and writing resumes by itself when the disk does: a full disk is retried at every
commit, a failing one is closed and reopened every ``REOPEN_EVERY_S``. The bound
(``outbox.max_bytes``) covers the files on disk: rows are costed with their SQLite overhead
and the WAL is held to its share by the checkpoint policy (outbox_file.py).

Acknowledged rows whose deletion could not be committed yet are remembered and never sent
again in this run; their deletion is retried by the writer until it sticks.

Thread-safety: writes are serialised by one lock (the writer thread commits, the link thread
rejects and expires); reads have their own connection and lock; counters a third, short one.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Set

from edge_agent.errors import EdgeAgentError, StorageError
from edge_agent.settings.outbox import OutboxSettings
from edge_agent.transport.loss_log import LossLog
from edge_agent.transport.outbox_file import (
    PAGE_BYTES,
    files_bytes,
    open_outbox_file,
    open_reader,
    release_lock,
)
from edge_agent.transport.outbox_records import OutboxCounters, OutboxRow, Staged, Totals
from edge_agent.transport.outbox_salvage import SalvageReport
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
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_CHUNK = 500  # ids per statement, below SQLite's default limit of 999 variables
ROW_OVERHEAD_B = 160
"""Disk bytes a row costs beyond its payload: topic, record header, created_s index entry and
b-tree slack (tests/test_outbox_storage.py measures the real files against the bound)."""
_SHM_B = 32 * 1024
_FIXED_PAGES = 8  # schema, index roots, meta, freelist trunk
REOPEN_EVERY_S = 5.0
_DISK_FULL_CODE = 13  # SQLITE_FULL
_PROBE_KEY = "write_probe_s"  # meta row rewritten to see whether a full disk has room again


def wal_limit_bytes(max_bytes: int) -> int:
    """The WAL's share of the on-disk bound: 1/8, between 64 KiB and 4 MiB (SQLite's default
    checkpoint size, so the default bound checkpoints as SQLite always did)."""
    return min(4 * 1024 * 1024, max(64 * 1024, max_bytes // 8))


def row_budget_bytes(max_bytes: int) -> int:
    """What rows (payload plus ROW_OVERHEAD_B each) may occupy within ``max_bytes``: what the
    WAL, the index and fixed pages leave, less 5 % for a commit batch past a checkpoint."""
    rest = max_bytes - wal_limit_bytes(max_bytes) - _SHM_B - _FIXED_PAGES * PAGE_BYTES
    return rest * 95 // 100


@dataclass(frozen=True)
class CommitResult:
    """Whether the transaction committed, and the new ids (None where refused)."""

    ok: bool
    ids: List[Optional[int]]


def _is_disk_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) == _DISK_FULL_CODE
    return "disk is full" in str(exc)


class Outbox:
    """A bounded, ordered, crash-safe message queue in one SQLite file."""

    def __init__(self, settings: OutboxSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._lock = threading.Lock()  # guards _totals and _not_resend
        self._db: Optional[sqlite3.Connection] = None
        self._reader: Optional[sqlite3.Connection] = None
        self._lock_fd = -1
        self._totals = Totals()
        self._not_resend: Set[int] = set()
        self._wal_limit = wal_limit_bytes(settings.max_bytes)
        self._budget = row_budget_bytes(settings.max_bytes)
        self._scale = 1.0  # measured disk bytes per estimated byte (see _calibrate)
        self._loss = LossLog(logger)
        self._unavailable = ""
        self._next_open_s = 0.0
        self._failing_since: Optional[float] = None
        self.salvage: Optional[SalvageReport] = None
        self.last_error = ""

    # Opening and closing.

    def open(self) -> None:
        """Open (or create, or salvage and replace when damaged) the file.

        Raises ConfigError for what a person must fix. A full or failing file system does
        not raise: the outbox stays unavailable (durable messages refused, counted) and
        retries by itself every REOPEN_EVERY_S.
        """
        with self._write_lock:
            if not self._try_open(initial=True):
                logger.warning(
                    "outbox unavailable: %s; durable messages are refused (counted) until it "
                    "can be opened, retried every %.0f s; queued messages in it are kept",
                    self._unavailable,
                    REOPEN_EVERY_S,
                )

    def _try_open(self, initial: bool = False) -> bool:
        """Open both connections (write lock held); False on a storage fault. A ConfigError
        is raised at the first open only: later it means the same as a storage fault."""
        path = self._settings.path
        try:
            opened = open_outbox_file(path, self._settings.synchronous, _SCHEMA, self._wal_limit)
        except StorageError as exc:
            self._mark_unavailable(exc.problem)
            return False
        except EdgeAgentError as exc:
            if initial:
                raise
            self._mark_unavailable(exc.problem)
            return False
        self._db, self._lock_fd = opened.db, opened.lock_fd
        if opened.salvage is not None:
            self.salvage = opened.salvage
        try:
            self._reader = open_reader(path)
            row = self._db.execute(
                "SELECT COUNT(*), TOTAL(size), COUNT(rejected) FROM outbox"
            ).fetchone()
        except sqlite3.Error as exc:
            self._close_connections()
            self._mark_unavailable(f"cannot read {path}: {exc}")
            return False
        with self._lock:
            totals = self._totals
            totals.rows, totals.bytes = int(row[0]), int(row[1])
            totals.rejected_rows = int(row[2])
            if initial:  # on a reopen, acknowledged rows still wait for their deletion
                self._not_resend.clear()
        self._unavailable = ""
        if totals.rows:
            logger.info(
                "outbox %s holds %d message(s) from before; they are sent first",
                path,
                totals.rows - totals.rejected_rows,
            )
        self._check_free_space()
        return True

    def _mark_unavailable(self, reason: str) -> None:
        self._unavailable = reason
        self.last_error = f"outbox unavailable: {reason}"
        self._next_open_s = time.monotonic() + REOPEN_EVERY_S

    def _check_free_space(self) -> None:
        """Warn when the bound does not fit in what the file system has left."""
        path = self._settings.path
        try:
            stat = os.statvfs(path.parent)
        except OSError:
            return
        room = stat.f_bavail * stat.f_frsize + files_bytes(path)
        if self._settings.max_bytes > room:
            logger.warning(
                "outbox.max_bytes = %d MiB but its file system (%s) has only %d MiB for it: "
                "the disk may fill before the outbox does (then new durable messages are "
                "refused until space returns). Lower outbox.max_bytes or free space.",
                self._settings.max_bytes // (1024 * 1024),
                path.parent,
                room // (1024 * 1024),
            )

    @property
    def available(self) -> bool:
        """The file is open and writable as far as we know."""
        return self._db is not None and self._failing_since is None

    def close(self) -> None:
        """Close both connections (the last one checkpoints); queued rows stay in the file."""
        with self._write_lock:
            self._close_connections()
        self._loss.flush()

    def _close_connections(self) -> None:
        with self._read_lock:
            for db in (self._reader, self._db):
                if db is not None:
                    try:
                        db.close()
                    except sqlite3.Error:
                        pass
            self._db = self._reader = None
            release_lock(self._lock_fd)
            self._lock_fd = -1

    def tick(self) -> None:
        """Writer thread, when idle: reopen a failed file or probe a full disk when due (so
        recovery shows without waiting for the next message), log summed losses."""
        now = time.monotonic()
        if self._db is None and self._unavailable and now >= self._next_open_s:
            with self._write_lock:
                if self._db is None and self._try_open():
                    self._recovered()
        elif self._failing_since is not None and now >= self._next_open_s:
            self._next_open_s = now + REOPEN_EVERY_S
            if self.write_meta(_PROBE_KEY, int(self._clock())):
                with self._write_lock:
                    self._recovered()
        self._loss.tick()

    # Writing.

    def append(self, msg: OutgoingMessage) -> Optional[int]:
        """Commit one message now; returns its id, or None when it was refused (counted)."""
        return self.commit([(msg, self._clock())], ()).ids[0]

    def delete(self, ids: Sequence[int]) -> bool:
        """Remove acknowledged rows now (ids already gone are ignored); False if it failed
        (the rows are then never sent again in this run; delete them later)."""
        if not ids:
            return True
        self.mark_acked(ids)
        return self.commit((), ids).ok

    def mark_acked(self, ids: Sequence[int]) -> None:
        """Acknowledged rows waiting for their deletion: not to be sent again meanwhile."""
        with self._lock:
            self._not_resend.update(ids)

    def commit(self, staged: Sequence[Staged], delete_ids: Sequence[int]) -> CommitResult:
        """In one transaction: delete acknowledged rows, then append ``staged`` in order.

        A failing transaction (disk full, I/O error) refuses the whole batch (counted,
        ``last_error`` says why) and returns ``ok=False``; the caller keeps ``delete_ids``.
        """
        refused_all = CommitResult(False, [None] * len(staged))
        with self._write_lock:
            db = self._db
            if db is None:
                if not (self._unavailable and time.monotonic() >= self._next_open_s):
                    self._count_refused(len(staged), self.last_error or "outbox not open")
                    return refused_all
                if not self._try_open():
                    self._count_refused(len(staged), self.last_error)
                    return refused_all
                self._recovered()
                db = self._db
                assert db is not None
            with self._lock:
                totals = self._totals.copy()
            ids: List[Optional[int]] = []
            try:
                db.execute("BEGIN IMMEDIATE")
                if staged:
                    self._calibrate(db, totals)
                if delete_ids:
                    self._delete_in_tx(db, delete_ids, totals)
                for msg, created_s in staged:
                    ids.append(self._insert_in_tx(db, msg, created_s, totals))
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(db)
                self._write_failed(exc, len(staged))
                return refused_all
            except BaseException:
                self._rollback(db)
                raise
            with self._lock:
                refused = totals.refused - self._totals.refused
                dropped = totals.dropped - self._totals.dropped
                self._totals = totals
                if delete_ids:
                    self._not_resend.difference_update(delete_ids)
            if self._failing_since is not None:
                self._recovered()
            self._loss.report("outbox refused new messages", refused, self.last_error)
            self._loss.report(
                "outbox full, oldest messages dropped (overflow = drop_oldest)",
                dropped,
                self.last_error,
            )
            self._bound_wal(db)
            return CommitResult(True, ids)

    def count_refused(self, count: int, reason: str) -> None:
        """Messages lost before they reached a commit (the writer died): counted, logged."""
        with self._write_lock:
            self._count_refused(count, reason)

    def _count_refused(self, count: int, reason: str) -> None:
        if not count:
            return
        with self._lock:
            self._totals.refused += count
        self._loss.report("outbox refused new messages", count, reason)

    def _write_failed(self, exc: sqlite3.Error, refused: int) -> None:
        path = self._settings.path
        self.last_error = f"outbox write failed: {exc}"
        with self._lock:
            self._totals.write_errors += 1
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            self._next_open_s = self._failing_since + REOPEN_EVERY_S
            logger.warning(
                "cannot write the outbox %s (%s): new durable messages are refused until it "
                "can; queued messages are kept and sent when writing works again",
                path,
                exc,
            )
        self._count_refused(refused, f"cannot write {path}: {exc}")
        if not _is_disk_full(exc):
            # An I/O error (failing or vanished drive): this connection may be dead for
            # good; reopen later, which also finds the drive again once it is back.
            self._close_connections()
            self._mark_unavailable(str(exc))

    def _recovered(self) -> None:
        since = self._failing_since
        self._failing_since = None
        self.last_error = ""
        if since is not None:
            logger.warning(
                "the outbox %s can be written again after %.0f s",
                self._settings.path,
                time.monotonic() - since,
            )
        else:
            logger.warning("the outbox %s is available again", self._settings.path)

    def _bound_wal(self, db: sqlite3.Connection) -> None:
        """Truncate a WAL that outgrew its share (checkpoints were starved by readers)."""
        wal = self._settings.path.with_name(self._settings.path.name + "-wal")
        try:
            if wal.stat().st_size <= 2 * self._wal_limit:
                return
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except (OSError, sqlite3.Error):
            pass  # best effort: the next commit tries again

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (e.g. SQLITE_FULL), or never began

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

    def _calibrate(self, db: sqlite3.Connection, totals: Totals) -> None:
        """Scale the per-row estimate by what the pages really hold (two header reads per
        commit): rows deleted out of order leave half-empty pages that the estimate misses."""
        estimate = totals.bytes + totals.rows * ROW_OVERHEAD_B
        if totals.rows < 100 or estimate <= 0:
            self._scale = 1.0
            return
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
        used = (pages - free - _FIXED_PAGES) * PAGE_BYTES
        self._scale = max(1.0, used / estimate)

    def _fits(self, rows: int, payload_bytes: int) -> bool:
        settings = self._settings
        disk = (payload_bytes + rows * ROW_OVERHEAD_B) * self._scale
        return rows <= settings.max_rows and disk <= self._budget

    def _make_room_in_tx(self, db: sqlite3.Connection, size: int, totals: Totals) -> bool:
        settings = self._settings
        if size + ROW_OVERHEAD_B > self._budget:
            self.last_error = (
                f"message of {size} bytes does not fit in outbox.max_bytes = {settings.max_bytes}"
            )
            return False
        if self._fits(totals.rows + 1, totals.bytes + size):
            return True
        if settings.overflow == "refuse_new":
            self.last_error = "outbox full (overflow = refuse_new): new message refused"
            return False
        victims: List[int] = []
        rows, total = totals.rows, totals.bytes
        for row_id, row_size in db.execute("SELECT id, size FROM outbox ORDER BY id"):
            if self._fits(rows + 1, total + size):
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

    def reject(self, row_id: int, reason_code: int) -> None:
        """Keep a row the broker refused, out of the send order, for inspection and expiry."""
        with self._write_lock:  # every change of _totals happens under it (commit swaps it)
            with self._lock:
                self._totals.rejected += 1
            db = self._db
            try:
                if db is None:
                    raise sqlite3.OperationalError(self._unavailable or "outbox not open")
                cursor = db.execute(
                    "UPDATE outbox SET rejected = ? WHERE id = ? AND rejected IS NULL",
                    (reason_code, row_id),
                )
            except sqlite3.Error:
                with self._lock:  # cannot mark it on disk: at least never resend it now
                    self._not_resend.add(row_id)
                return
            if cursor.rowcount:
                with self._lock:
                    self._totals.rejected_rows += 1

    def expire(self) -> int:
        """Delete rows older than max_age_s; returns (and counts) how many were unsent."""
        cutoff = self._clock() - self._settings.max_age_s
        with self._read_lock:
            reader = self._reader
            if reader is None:
                return 0
            try:
                query = "SELECT id FROM outbox WHERE created_s < ?"
                ids = [int(i) for (i,) in reader.execute(query, (cutoff,))]
            except sqlite3.Error:
                return 0
        if not ids or not self.commit((), ids).ok:
            return 0
        with self._write_lock, self._lock:  # not between a commit's copy and its swap
            self._totals.expired += len(ids)
        self.last_error = f"{len(ids)} message(s) older than outbox.max_age_s expired"
        kind = "outbox messages expired unsent (older than outbox.max_age_s)"
        self._loss.report(kind, len(ids), self.last_error)
        return len(ids)

    # Session counter (the status 'session', kept across restarts).

    def read_meta(self, key: str) -> Optional[int]:
        """A stored integer, or None when absent or unreadable."""
        with self._read_lock:
            reader = self._reader
            if reader is None:
                return None
            try:
                row = reader.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:
                return None
        return None if row is None else int(row[0])

    def write_meta(self, key: str, value: int) -> bool:
        """Store an integer durably; False when the disk refused (the caller carries on)."""
        with self._write_lock:
            db = self._db
            if db is None:
                return False
            try:
                db.execute(  # not UPSERT: JetPack 4's SQLite 3.22 predates it
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, int(value))
                )
            except sqlite3.Error:
                return False
            return True

    # Reading.

    def fetch(self, after_id: int, limit: int) -> List[OutboxRow]:
        """Up to ``limit`` committed, sendable rows with id > ``after_id``, oldest first."""
        with self._lock:
            skip = set(self._not_resend)
        found: List[OutboxRow] = []
        with self._read_lock:
            reader = self._reader
            if reader is None:
                return found
            cursor_id = after_id
            while len(found) < limit:
                try:
                    batch = reader.execute(
                        "SELECT id, topic, payload, qos, retain, created_s FROM outbox"
                        " WHERE id > ? AND rejected IS NULL ORDER BY id LIMIT ?",
                        (cursor_id, limit - len(found)),
                    ).fetchall()
                except sqlite3.Error:
                    return found
                if not batch:
                    break
                for i, t, p, q, r, c in batch:
                    cursor_id = int(i)
                    if cursor_id not in skip:
                        row = OutboxRow(cursor_id, str(t), bytes(p), int(q), bool(r), float(c))
                        found.append(row)
        return found

    def max_id(self) -> int:
        """Highest committed id (0 when empty): rows up to it existed before a reconnect."""
        with self._read_lock:
            reader = self._reader
            if reader is None:
                return 0
            try:
                row = reader.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()
            except sqlite3.Error:
                return 0
            return int(row[0])

    def counters(self) -> OutboxCounters:
        """Current contents and loss counters."""
        oldest = None
        with self._read_lock:
            reader = self._reader
            if reader is not None:
                try:
                    oldest = reader.execute(
                        "SELECT created_s FROM outbox WHERE rejected IS NULL ORDER BY id LIMIT 1"
                    ).fetchone()
                except sqlite3.Error:
                    oldest = None
        age = None if oldest is None else max(0.0, self._clock() - float(oldest[0]))
        with self._lock:
            totals = self._totals
            return OutboxCounters(
                depth=self._depth_locked(),
                rows=totals.rows,
                bytes=totals.bytes,
                oldest_age_s=age,
                dropped=totals.dropped,
                refused=totals.refused,
                expired=totals.expired,
                rejected=totals.rejected,
                write_errors=totals.write_errors,
                available=self.available,
            )

    def _depth_locked(self) -> int:
        totals = self._totals
        return max(0, totals.rows - totals.rejected_rows - len(self._not_resend))

    def depth(self) -> int:
        """Committed rows still to be delivered (cheap: no query)."""
        with self._lock:
            return self._depth_locked()
