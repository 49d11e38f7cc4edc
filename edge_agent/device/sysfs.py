"""Small helpers for reading sysfs/procfs under a root path, with one warning per missing item.

Jetson releases move files around (INA3221 driver layouts, devfreq names, thermal zone numbering),
so readers discover paths by globbing under a configurable root and remember what they found.
`WarnOnce` keeps the journal readable: a missing sensor is reported once, not every second.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Set, Tuple

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
    """Logs a warning the first time each reading is found unavailable, then stays silent.

    With `deferred`, warnings are collected instead, and `flush(on_jetson)` decides: on a
    Jetson a missing sensor is worth a warning each; elsewhere (a PC, CI) none of them exist,
    so one info line says so instead of five warnings on every start.
    """

    def __init__(self, log: Optional[logging.Logger] = None, deferred: bool = False) -> None:
        self._log = log or logger
        self._seen: Set[str] = set()
        self._deferred = deferred
        self._held: List[Tuple[str, str]] = []

    def warn(self, reading: str, detail: str) -> None:
        """Warn about `reading` unless already warned; `detail` says which file was missing."""
        if reading in self._seen:
            return
        self._seen.add(reading)
        if self._deferred:
            self._held.append((reading, detail))
            return
        self._log.warning("device reading %s disabled: %s", reading, detail)

    def flush(self, on_jetson: bool) -> None:
        """Log what was held: a warning each on a Jetson, one info line elsewhere."""
        held, self._held, self._deferred = self._held, [], False
        if not held:
            return
        if on_jetson:
            for reading, detail in held:
                self._log.warning("device reading %s disabled: %s", reading, detail)
        else:
            self._log.info("not a Jetson: device readings %s unavailable (telemetry 'device' "
                           "carries what is readable)", ", ".join(r for r, _ in held))

    @property
    def disabled(self) -> List[str]:
        """Readings that have been disabled so far, sorted."""
        return sorted(self._seen)
