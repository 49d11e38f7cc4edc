"""OutboxReader: the outbox's second, read-only connection.

Why a connection of its own: in WAL mode a reader sees committed transactions only, so the
link thread can never send a row the writer has not yet made durable, and reads never wait
for an fsync. Every read answers 'nothing' rather than raising when the file is closed or
the disk fails, because its caller is the network thread, which must keep running.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import AbstractSet, List, Optional

from edge_agent.transport.outbox_file import open_reader
from edge_agent.transport.outbox_records import OutboxRow


class OutboxReader:
    """Reads committed rows; thread-safe (one lock around the connection)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: Optional[sqlite3.Connection] = None

    def open(self, path: Path) -> None:
        """Connect to ``path`` (sqlite3.Error when that fails)."""
        db = open_reader(path)
        with self._lock:
            self._db = db

    def close(self) -> None:
        """Disconnect (idempotent)."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                try:
                    db.close()
                except sqlite3.Error:
                    pass

    def rows(self, after_id: int, limit: int, skip: AbstractSet[int]) -> List[OutboxRow]:
        """Up to ``limit`` sendable rows with id > ``after_id`` not in ``skip``, in id order."""
        found: List[OutboxRow] = []
        with self._lock:
            db = self._db
            if db is None:
                return found
            cursor_id = after_id
            while len(found) < limit:
                try:
                    batch = db.execute(
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

    def _one(self, query: str, *args: object) -> Optional[object]:
        with self._lock:
            db = self._db
            if db is None:
                return None
            try:
                row = db.execute(query, args).fetchone()
            except sqlite3.Error:
                return None
        return None if row is None else row[0]

    def max_id(self) -> int:
        """Highest committed id, 0 when empty or unreadable."""
        value = self._one("SELECT COALESCE(MAX(id), 0) FROM outbox")
        return int(value) if isinstance(value, int) else 0

    def oldest_created_s(self) -> Optional[float]:
        """Creation time of the oldest sendable row, None when none or unreadable."""
        value = self._one(
            "SELECT created_s FROM outbox WHERE rejected IS NULL ORDER BY id LIMIT 1"
        )
        return float(value) if isinstance(value, (int, float)) else None

    def meta(self, key: str) -> Optional[int]:
        """A stored integer of the meta table, None when absent or unreadable."""
        value = self._one("SELECT value FROM meta WHERE key = ?", key)
        return int(value) if isinstance(value, int) else None

    def ids_older_than(self, cutoff_s: float) -> List[int]:
        """Ids of rows created before ``cutoff_s`` ([] when unreadable)."""
        with self._lock:
            db = self._db
            if db is None:
                return []
            try:
                query = "SELECT id FROM outbox WHERE created_s < ?"
                return [int(i) for (i,) in db.execute(query, (cutoff_s,))]
            except sqlite3.Error:
                return []
