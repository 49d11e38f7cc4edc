"""Small helpers for reading sysfs/procfs under a root path, with one warning per missing item.

Jetson releases move files around (INA3221 driver layouts, devfreq names, thermal zone numbering),
so readers discover paths by globbing under a configurable root and remember what they found.
`WarnOnce` keeps the journal readable: a missing sensor is reported once, not every second.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Set

logger = logging.getLogger(__name__)


def under(root: Path, absolute: str) -> Path:
    """`absolute` (e.g. '/sys/class/thermal') re-rooted under `root`."""
    return Path(root) / absolute.lstrip("/")


def read_text(path: Path) -> Optional[str]:
    """The stripped text of a small file, or None when it cannot be read (absent, EAGAIN, EPERM).

    Device-tree strings end with NUL; those are kept for callers that split on them, so only
    whitespace is stripped here.
    """
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def read_int(path: Path) -> Optional[int]:
    """An integer file (counters, millidegrees, Hz); None when unreadable or not a number."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text.split()[0]) if text else None
    except ValueError:
        return None


def sorted_glob(base: Path, pattern: str) -> List[Path]:
    """Glob results sorted with numeric suffixes in numeric order (zone2 before zone10)."""

    def key(path: Path) -> tuple:  # type: ignore[type-arg]
        digits = "".join(ch for ch in path.name if ch.isdigit())
        return (path.name.rstrip("0123456789"), int(digits) if digits else -1, path.name)

    return sorted(base.glob(pattern), key=key)


class WarnOnce:
    """Logs a warning the first time each reading is found unavailable, then stays silent."""

    def __init__(self, log: Optional[logging.Logger] = None) -> None:
        self._log = log or logger
        self._seen: Set[str] = set()

    def warn(self, reading: str, detail: str) -> None:
        """Warn about `reading` unless already warned; `detail` says which file was missing."""
        if reading in self._seen:
            return
        self._seen.add(reading)
        self._log.warning("device reading %s disabled: %s", reading, detail)

    @property
    def disabled(self) -> List[str]:
        """Readings that have been disabled so far, sorted."""
        return sorted(self._seen)
