"""Counting state on disk, so counts are right the moment the agent comes back.

After a restart the tracker needs a few frames to confirm anyone, so live counts start at
zero; publishing that zero (retained!) tells every dashboard the building emptied. Instead the
last saved counts are published until the tracker has warmed up, and line counters simply
continue. The file is small JSON, written to a temporary sibling and renamed, so a crash
leaves the old state or the new one, never half of either.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Dict

from edge_agent.errors import ConfigError

logger = logging.getLogger(__name__)

STATE_VERSION = 1


class StateStore:
    """One JSON document: {"version", "saved_ts", "cameras": {cam: {"zones", "lines"}}}."""

    def __init__(self, state_dir: Path, filename: str = "counting.json") -> None:
        self.path = Path(state_dir) / filename

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

    def save(self, cameras: Dict[str, Any], now_s: float) -> None:
        """Replace the document atomically."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create state folder {self.path.parent}: {exc}",
                "set models.tracking.state_dir to a folder the agent may write",
            ) from exc
        doc = {"version": STATE_VERSION, "saved_ts": now_s, "cameras": cameras}
        fd, tmp_name = tempfile.mkstemp(prefix=".counting.", dir=str(self.path.parent))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp_name).replace(self.path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
