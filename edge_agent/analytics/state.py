"""Counting state on disk, so counts are right the moment the agent comes back.

After a restart the tracker needs a few frames to confirm anyone, so live counts start at
zero; publishing that zero (retained!) tells every dashboard the building emptied. Instead the
last saved counts are published until the tracker has warmed up, and line counters simply
continue. The file is small JSON, written to a temporary sibling, fsynced and renamed, so a
crash or a full disk leaves the old state or the new one, never half of either.

A save that fails (disk full, read-only or vanished file system, no permission) is a
degradation, not an error of the caller: ``save()`` never raises for it. It returns a
``SaveResult`` naming the problem and the fix, counts the failure, logs the first one of a
spell (and the recovery) and leaves the previous file in place. Callers run it from a worker
of their own (a timer), never on the inference path.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from edge_agent.errors import StorageError

logger = logging.getLogger(__name__)

STATE_VERSION = 1
_FIX = (
    "free space on the state file system, make it writable, or set "
    "models.tracking.state_dir to a folder the agent may write"
)


class StateSaveError(StorageError):
    """The counting state could not be written; the previous file is unchanged."""


@dataclass(frozen=True)
class SaveResult:
    """What one ``save()`` did."""

    ok: bool
    error: Optional[StateSaveError] = None
    """Why it failed (problem and fix), None when it worked."""
    failures: int = 0
    """Failed saves since this store was made (counted across spells)."""

    def raise_for_error(self) -> None:
        """For callers that want an exception: raise the typed error if the save failed."""
        if self.error is not None:
            raise self.error


class StateStore:
    """One JSON document: {"version", "saved_ts", "cameras": {cam: {"zones", "lines"}}}.

    Thread-safe: saves are serialised, so a timer worker and a final save at stop can overlap.
    """

    def __init__(self, state_dir: Path, filename: str = "counting.json") -> None:
        self.path = Path(state_dir) / filename
        self._lock = threading.Lock()
        self.saves = 0
        """Successful saves."""
        self.failures = 0
        """Failed saves (each one counted, whatever the reason)."""
        self.last_error: Optional[StateSaveError] = None
        """The failure of the current spell; None once a save works again."""
        self._failing_since: Optional[float] = None

    def load(self) -> Dict[str, Any]:
        """The saved document, or an empty one when missing or unreadable (logged)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable counting state %s: %s", self.path, exc)
            return {}
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            logger.warning("ignoring counting state %s of another version", self.path)
            return {}
        return data

    def save(self, cameras: Dict[str, Any], now_s: float) -> SaveResult:
        """Replace the document atomically; never raises for a file-system problem."""
        doc = {"version": STATE_VERSION, "saved_ts": now_s, "cameras": cameras}
        with self._lock:
            try:
                text = json.dumps(doc, sort_keys=True)
            except (TypeError, ValueError) as exc:
                problem = f"counting state is not JSON-serialisable: {exc}"
                return self._failed(StateSaveError(problem, "report a bug"))
            try:
                self._write(text)
            except OSError as exc:
                return self._failed(
                    StateSaveError(
                        f"cannot save the counting state to {self.path}: "
                        f"{exc.strerror or exc}",
                        _FIX,
                    )
                )
            self.saves += 1
            if self._failing_since is not None:
                logger.warning(
                    "counting state saved again to %s after %.0f s of failures",
                    self.path,
                    time.monotonic() - self._failing_since,
                )
            self._failing_since = None
            self.last_error = None
            return SaveResult(True, None, self.failures)

    def _write(self, text: str) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".counting.", dir=str(folder))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp_name).replace(self.path)
        except BaseException:
            try:
                Path(tmp_name).unlink()
            except OSError:
                pass  # the folder itself may be gone; nothing half-written is left in place
            raise
        _fsync_dir(folder)

    def _failed(self, error: StateSaveError) -> SaveResult:
        self.failures += 1
        self.last_error = error
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            logger.warning(
                "%s (the previous state is kept; saving is retried)\n  fix: %s",
                error.problem,
                error.fix,
            )
        return SaveResult(False, error, self.failures)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
