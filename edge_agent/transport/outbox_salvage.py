"""Salvage: copy every readable row of a damaged outbox into a fresh one, in order.

Why not move the damaged file aside whole: a few overwritten pages (a power cut mid-write on
cheap flash) make SQLite call the whole file malformed, yet most of its pages still hold
queued messages; ``sqlite3 .recover`` is not on the devices and often fails on such files.

How: a table scan in id order reads as far as it can; where it hits a damaged page, single-id
lookups step over the damaged range (a lookup only touches the b-tree path to its own leaf)
and the scan resumes after it. Ids whose lookup fails are counted as unreadable: they are the
messages lost (an upper bound: ids deleted earlier that fell in a damaged range count too).
Salvaged payloads are flagged ``replayed`` (they were queued before the damage). The fresh
outbox is written at a temporary path and renamed into place only once it is complete.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Tuple

from edge_agent.transport.delivery import mark_replayed

_BATCH = 256
_MAX_STEPS = 1_000_000  # single-id lookups at most (an absurd id bound must not hang start-up)

SalvagedRow = Tuple[int, str, bytes, int, int, float, int, Optional[int]]
"""id, topic, payload, qos, retain, created_s, size, rejected"""


@dataclass(frozen=True)
class SalvageReport:
    """What came out of a damaged outbox."""

    salvaged: int
    """Rows copied into the fresh outbox (their order kept)."""
    unreadable: int
    """Ids that could not be read: at most this many messages were lost."""
    moved_to: Path
    """Where the damaged file now lies, for forensics."""


class _Reader:
    """Yields the readable rows of a damaged file in id order and counts unreadable ids."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.unreadable = 0

    def rows(self) -> Iterator[SalvagedRow]:
        cursor = 0
        upper: Optional[int] = None
        steps = 0
        while True:
            got = 0
            try:
                for row in self._db.execute(
                    "SELECT id, topic, payload, qos, retain, created_s, size, rejected"
                    " FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                    (cursor, _BATCH),
                ):
                    cursor = int(row[0])
                    got += 1
                    yield _typed(row)
            except sqlite3.DatabaseError:
                got = -1
            if got == 0:
                return
            if got > 0:
                continue
            # A damaged page lies after ``cursor``: step over it one id at a time.
            if upper is None:
                upper = self._upper_id()
                if upper is None:
                    return  # no bound readable: nothing more can be found safely
            cursor += 1
            while cursor <= upper and steps < _MAX_STEPS:
                steps += 1
                try:
                    row = self._db.execute(
                        "SELECT id, topic, payload, qos, retain, created_s, size, rejected"
                        " FROM outbox WHERE id = ?",
                        (cursor,),
                    ).fetchone()
                except sqlite3.DatabaseError:
                    self.unreadable += 1
                    cursor += 1
                    continue
                if row is not None:
                    yield _typed(row)
                break  # readable again: try the fast scan from here
            if cursor > upper or steps >= _MAX_STEPS:
                return

    def _upper_id(self) -> Optional[int]:
        """The highest id ever used: AUTOINCREMENT keeps it in sqlite_sequence."""
        best: Optional[int] = None
        for query in (
            "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'",
            "SELECT MAX(id) FROM outbox",
        ):
            try:
                found = self._db.execute(query).fetchone()
            except sqlite3.DatabaseError:
                continue
            if found is not None and found[0] is not None:
                best = max(best or 0, int(found[0]))
        return best


def _typed(row: Any) -> SalvagedRow:
    rid, topic, payload, qos, retain, created_s, size, rejected = row
    return (
        int(rid),
        str(topic),
        bytes(payload),
        int(qos),
        int(retain),
        float(created_s),
        int(size),
        None if rejected is None else int(rejected),
    )


def _open_damaged(path: Path) -> Optional[sqlite3.Connection]:
    """Read-only where SQLite allows it (keeps the evidence untouched), else read-write."""
    for uri in (f"{path.as_uri()}?mode=ro", path.as_uri()):
        try:
            db = sqlite3.connect(uri, uri=True, isolation_level=None)
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            return db
        except sqlite3.Error:
            continue
    return None


def copy_readable_rows(damaged: Path, fresh: sqlite3.Connection) -> Tuple[int, int]:
    """Insert every readable row of ``damaged`` into ``fresh`` (one transaction, id order);
    returns (salvaged, unreadable). sqlite3.Error from ``fresh`` (disk full) propagates."""
    source = _open_damaged(damaged)
    if source is None:
        return 0, 0
    reader = _Reader(source)
    salvaged = 0
    try:
        fresh.execute("BEGIN IMMEDIATE")
        try:
            for _rid, topic, payload, qos, retain, created_s, _size, rejected in reader.rows():
                payload = mark_replayed(payload)
                fresh.execute(
                    "INSERT INTO outbox (topic, payload, qos, retain, created_s, size, rejected)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (topic, payload, qos, retain, created_s, len(payload), rejected),
                )
                salvaged += 1
            fresh.execute("COMMIT")
        except BaseException:
            fresh.execute("ROLLBACK")
            raise
    finally:
        source.close()
    return salvaged, reader.unreadable
