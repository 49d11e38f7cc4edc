"""What fits in the outbox: ``outbox.max_bytes`` bounds its files on disk, not only payloads.

Why: SQLite's WAL grows to its checkpoint size (4 MiB by default) whatever the queue holds,
and every row costs more than its payload (topic, record header, the created_s index entry,
b-tree slack); a bound on payload bytes alone let the files fill a small partition. Here:

- the WAL gets 1/8 of the bound (64 KiB to 4 MiB); outbox_file.py makes SQLite checkpoint at
  that size and truncate the WAL back to it;
- rows get the rest (less the shared-memory index, fixed pages and 5 % for a commit batch
  past a checkpoint), each costed at payload + ROW_OVERHEAD_B;
- that estimate is scaled, once per commit, by what SQLite's pages really hold
  (``page_count - freelist_count``): rows deleted out of order leave half-empty pages.

The SQL that adds and removes rows inside the caller's transaction lives here too, beside the
budget that decides whether a row may be added.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import List, Sequence, Tuple

from edge_agent.events.publisher import OutgoingMessage
from edge_agent.settings.outbox import OutboxSettings
from edge_agent.transport.outbox_file import PAGE_BYTES, files_bytes
from edge_agent.transport.outbox_records import Totals

logger = logging.getLogger(__name__)

ROW_OVERHEAD_B = 160
"""Disk bytes a row costs beyond its payload (tests/test_outbox_salvage_bound.py measures the
real files against the bound)."""
_SHM_B = 32 * 1024
_FIXED_PAGES = 8  # schema, index roots, meta, freelist trunk
_CHUNK = 500  # ids per statement, below SQLite's default limit of 999 variables


def wal_limit_bytes(max_bytes: int) -> int:
    """The WAL's share of the bound: 1/8, between 64 KiB and 4 MiB (SQLite's default
    checkpoint size, so the default bound checkpoints as SQLite always did)."""
    return min(4 * 1024 * 1024, max(64 * 1024, max_bytes // 8))


def row_budget_bytes(max_bytes: int) -> int:
    """What rows (payload plus ROW_OVERHEAD_B each) may occupy within ``max_bytes``."""
    rest = max_bytes - wal_limit_bytes(max_bytes) - _SHM_B - _FIXED_PAGES * PAGE_BYTES
    return rest * 95 // 100


class DiskBudget:
    """Decides whether rows fit; ``calibrate`` once per committing transaction."""

    def __init__(self, max_rows: int, max_bytes: int) -> None:
        self.max_rows = max_rows
        self.wal_limit_bytes = wal_limit_bytes(max_bytes)
        self.row_bytes = row_budget_bytes(max_bytes)
        self.scale = 1.0
        """Measured disk bytes per estimated byte (>= 1)."""

    def calibrate(self, db: sqlite3.Connection, totals: Totals) -> None:
        """Scale the estimate by what the pages really hold (two header reads)."""
        estimate = totals.bytes + totals.rows * ROW_OVERHEAD_B
        if totals.rows < 100 or estimate <= 0:
            self.scale = 1.0
            return
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
        used = (pages - free - _FIXED_PAGES) * PAGE_BYTES
        self.scale = max(1.0, used / estimate)

    def fits(self, rows: int, payload_bytes: int) -> bool:
        """``rows`` rows holding ``payload_bytes`` stay within both bounds."""
        disk = (payload_bytes + rows * ROW_OVERHEAD_B) * self.scale
        return rows <= self.max_rows and disk <= self.row_bytes

    def fits_alone(self, size: int) -> bool:
        """One message of ``size`` bytes could ever be stored."""
        return size + ROW_OVERHEAD_B <= self.row_bytes


def make_room_in_tx(
    db: sqlite3.Connection, budget: DiskBudget, settings: OutboxSettings, size: int, totals: Totals
) -> Tuple[bool, str]:
    """Whether a ``size``-byte row may be added (dropping the oldest rows when the policy is
    drop_oldest); the note says what was refused or dropped ('' when nothing was)."""
    if not budget.fits_alone(size):
        limit = settings.max_bytes
        return False, f"message of {size} bytes does not fit in outbox.max_bytes = {limit}"
    if budget.fits(totals.rows + 1, totals.bytes + size):
        return True, ""
    if settings.overflow == "refuse_new":
        return False, "outbox full (overflow = refuse_new): new message refused"
    victims: List[int] = []
    rows, total = totals.rows, totals.bytes
    for row_id, row_size in db.execute("SELECT id, size FROM outbox ORDER BY id"):
        if budget.fits(rows + 1, total + size):
            break
        victims.append(int(row_id))
        rows -= 1
        total -= int(row_size)
    count = len(victims) - delete_rows_in_tx(db, victims, totals)
    totals.dropped += count
    return True, f"outbox full (overflow = drop_oldest): {count} oldest dropped"


def insert_row_in_tx(
    db: sqlite3.Connection, msg: OutgoingMessage, created_s: float, totals: Totals
) -> int:
    """Append one row; returns its id."""
    size = len(msg.payload)
    cursor = db.execute(
        "INSERT INTO outbox (topic, payload, qos, retain, created_s, size)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (msg.topic, msg.payload, msg.qos, int(msg.retain), created_s, size),
    )
    totals.rows += 1
    totals.bytes += size
    return int(cursor.lastrowid or 0)


def delete_rows_in_tx(db: sqlite3.Connection, ids: Sequence[int], totals: Totals) -> int:
    """Delete rows by id (ids already gone are ignored); returns how many were rejected rows."""
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


def check_free_space(path: Path, max_bytes: int) -> None:
    """Warn at start when the bound does not fit in what the file system has left."""
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return
    room = stat.f_bavail * stat.f_frsize + files_bytes(path)
    if max_bytes > room:
        logger.warning(
            "outbox.max_bytes = %d MiB but its file system (%s) has only %d MiB for it: the "
            "disk may fill before the outbox does (then new durable messages are refused "
            "until space returns). Lower outbox.max_bytes or free space.",
            max_bytes // (1024 * 1024),
            path.parent,
            room // (1024 * 1024),
        )
