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
rejects and expires); reads have their own connection and lock (outbox_reader.py); counters a
third, short one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Set

from edge_agent.errors import EdgeAgentError, StorageError
from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings.outbox import OutboxSettings
from edge_agent.transport.loss_log import LossLog
from edge_agent.transport.outbox_budget import (
    DiskBudget,
    check_free_space,
    delete_rows_in_tx,
    insert_row_in_tx,
    make_room_in_tx,
)
from edge_agent.transport.outbox_file import open_outbox_file, release_lock
from edge_agent.transport.outbox_reader import OutboxReader
from edge_agent.transport.outbox_records import OutboxCounters, OutboxRow, Staged, Totals
from edge_agent.transport.outbox_salvage import SalvageReport
from edge_agent.transport.storage_faults import is_disk_full

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
REOPEN_EVERY_S = 5.0
_PROBE_KEY = "write_probe_s"  # meta row rewritten to see whether a full disk has room again


@dataclass(frozen=True)
class CommitResult:
    """Whether the transaction committed, and the new ids (None where refused)."""

    ok: bool
    ids: List[Optional[int]]


class Outbox:
    """A bounded, ordered, crash-safe message queue in one SQLite file."""

    def __init__(self, settings: OutboxSettings, clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._clock = clock
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()  # guards _totals and _not_resend
        self._db: Optional[sqlite3.Connection] = None
        self._reader = OutboxReader()
        self._lock_fd = -1
        self._totals = Totals()
        self._not_resend: Set[int] = set()
        self._budget = DiskBudget(settings.max_rows, settings.max_bytes)
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
            opened = open_outbox_file(
                path, self._settings.synchronous, _SCHEMA, self._budget.wal_limit_bytes
            )
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
            self._reader.open(path)
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
        check_free_space(path, self._settings.max_bytes)
        return True

    def _mark_unavailable(self, reason: str) -> None:
        self._unavailable = reason
        self.last_error = f"outbox unavailable: {reason}"
        self._next_open_s = time.monotonic() + REOPEN_EVERY_S

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
        self._reader.close()
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass
        release_lock(self._lock_fd)
        self._lock_fd = -1

    def tick(self) -> None:
        """Writer thread, when idle: reopen a failed file or probe a full disk when due (so
        recovery shows without waiting for the next message), log summed losses."""
        now = time.monotonic()
        if self._db is None and self._unavailable and now >= self._next_open_s:
            with self._write_lock:
                if self._db is None and self._try_open():
                    self._reopened()
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
                self._reopened()
                db = self._db
                assert db is not None
            with self._lock:
                totals = self._totals.copy()
            ids: List[Optional[int]] = []
            try:
                db.execute("BEGIN IMMEDIATE")
                if staged:
                    self._budget.calibrate(db, totals)
                if delete_ids:
                    delete_rows_in_tx(db, delete_ids, totals)
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
            self._loss.report("outbox refused new messages", refused, self.last_error)
            self._loss.report(
                "outbox full, oldest messages dropped (overflow = drop_oldest)",
                dropped,
                self.last_error,
            )
            if self._failing_since is not None:
                self._recovered()
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
        if not is_disk_full(exc):
            # An I/O error (failing or vanished drive): this connection may be dead for
            # good; reopen later, which also finds the drive again once it is back.
            self._close_connections()
            self._mark_unavailable(str(exc))

    def _reopened(self) -> None:
        """The file opened again; a failing spell ends only with a write that works."""
        if self._failing_since is None:
            logger.warning("the outbox %s is available again", self._settings.path)
        else:
            logger.info("the outbox %s was reopened", self._settings.path)

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

    def _bound_wal(self, db: sqlite3.Connection) -> None:
        """Truncate a WAL that outgrew its share (checkpoints were starved by readers)."""
        wal = self._settings.path.with_name(self._settings.path.name + "-wal")
        try:
            if wal.stat().st_size <= 2 * self._budget.wal_limit_bytes:
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
        fits, note = make_room_in_tx(db, self._budget, self._settings, len(msg.payload), totals)
        if note:
            self.last_error = note
        if not fits:
            totals.refused += 1
            return None
        return insert_row_in_tx(db, msg, created_s, totals)

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
        ids = self._reader.ids_older_than(self._clock() - self._settings.max_age_s)
        if not ids or not self.commit((), ids).ok:
            return 0
        with self._write_lock, self._lock:  # not between a commit's copy and its swap
            self._totals.expired += len(ids)
        self.last_error = f"{len(ids)} message(s) older than outbox.max_age_s expired"
        kind = "outbox messages expired unsent (older than outbox.max_age_s)"
        self._loss.report(kind, len(ids), self.last_error)
        return len(ids)

    # Small integers kept with the queue (the status 'session' across restarts).

    def read_meta(self, key: str) -> Optional[int]:
        """A stored integer, or None when absent or unreadable."""
        return self._reader.meta(key)

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

    # Reading (committed rows only: outbox_reader.py).

    def fetch(self, after_id: int, limit: int) -> List[OutboxRow]:
        """Up to ``limit`` committed, sendable rows with id > ``after_id``, oldest first;
        acknowledged rows still waiting for their deletion are left out."""
        with self._lock:
            skip = frozenset(self._not_resend)
        return self._reader.rows(after_id, limit, skip)

    def max_id(self) -> int:
        """Highest committed id (0 when empty): rows up to it existed before a reconnect."""
        return self._reader.max_id()

    def counters(self) -> OutboxCounters:
        """Current contents and loss counters."""
        oldest = self._reader.oldest_created_s()
        age = None if oldest is None else max(0.0, self._clock() - oldest)
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
