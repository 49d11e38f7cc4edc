"""Command ids (and signature nonces) remembered on disk, so a command runs at most once.

Why SQLite: the id must be durable *before* the command runs, or a crash between running and
recording would run it again on redelivery; SQLite gives an atomic, fsynced insert-if-absent
with no extra dependency (the outbox uses it too). An id is kept until its command's expiry
plus a margin: after that a redelivery is refused as expired anyway, so the table stays bounded
by the commands still alive.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Optional, Union

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    keep_until REAL NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (scope, id)
)
"""
_PRUNE_EVERY = 256


class CommandLedger:
    """Insert-if-absent of (scope, id) with an expiry; thread-safe."""

    def __init__(
        self,
        path: Union[Path, str],
        clock: Callable[[], float] = time.time,
        power_safe: bool = True,
    ) -> None:
        """``power_safe`` fsyncs every claim (survives a power cut); False (the simulator,
        which runs a thousand devices on one disk) still survives a process crash (WAL)."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if power_safe else 'NORMAL'}")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._clock = clock
        self._claims = 0

    def claim(self, scope: str, item_id: str, keep_until_s: float) -> Optional[str]:
        """Record the id; None if it is new, else the state it was recorded with."""
        with self._lock:
            self._claims += 1
            if self._claims % _PRUNE_EVERY == 0:
                self._db.execute("DELETE FROM seen WHERE keep_until < ?", (self._clock(),))
            row = self._db.execute(
                "SELECT state FROM seen WHERE scope = ? AND id = ?", (scope, item_id)
            ).fetchone()
            if row is not None:
                return str(row[0])
            self._db.execute(
                "INSERT INTO seen (scope, id, keep_until, state) VALUES (?, ?, ?, 'running')",
                (scope, item_id, keep_until_s),
            )
            return None

    def finish(self, scope: str, item_id: str, state: str) -> None:
        """Record how the command ended (shown in duplicate replies)."""
        with self._lock:
            self._db.execute(
                "UPDATE seen SET state = ? WHERE scope = ? AND id = ?", (state, scope, item_id)
            )

    def prune(self) -> int:
        """Forget ids past their window; returns how many."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM seen WHERE keep_until < ?", (self._clock(),))
            return int(cursor.rowcount)

    def size(self) -> int:
        """Ids remembered now."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
