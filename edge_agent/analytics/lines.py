"""Line crossing counters with in/out totals and an ONVIF-style reset interval.

Counters are what dashboards plot, so they must survive restarts (the caller saves and
restores them through analytics.state) and restart from zero only at the configured
boundary: intervals are aligned to the epoch (86400 s = UTC midnight), so every device of a
fleet resets at the same moment and `since` says when the current count began.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from edge_agent.analytics.geometry import crossing

Point = Tuple[float, float]


@dataclass(frozen=True)
class LineSpec:
    """A counting line in normalized coordinates."""

    name: str
    start: Point
    end: Point
    reset_interval_s: float = 0.0


@dataclass
class LineTotals:
    """Crossings since `since_ts` (UTC epoch seconds)."""

    count_in: int = 0
    count_out: int = 0
    since_ts: float = 0.0


@dataclass(frozen=True)
class Crossing:
    """One track crossing one line."""

    line: str
    uid: str
    direction: str


def interval_start(now_s: float, interval_s: float, origin_s: float) -> float:
    """Start of the reset interval holding now_s; origin_s when there is no interval."""
    if interval_s <= 0.0:
        return origin_s
    return math.floor(now_s / interval_s) * interval_s


class LineCounters:
    """In/out counters of one camera's lines, fed with foot points per track."""

    def __init__(self, lines: List[LineSpec], now_s: float) -> None:
        self._lines = list(lines)
        self.totals: Dict[str, LineTotals] = {
            line.name: LineTotals(since_ts=interval_start(now_s, line.reset_interval_s, now_s))
            for line in self._lines
        }
        self._last_foot: Dict[str, Point] = {}

    def restore(self, name: str, totals: LineTotals, now_s: float) -> bool:
        """Take saved totals if they belong to the current interval; True if taken."""
        line = next((x for x in self._lines if x.name == name), None)
        if line is None:
            return False
        current = interval_start(now_s, line.reset_interval_s, totals.since_ts)
        if line.reset_interval_s > 0.0 and totals.since_ts != current:
            return False
        self.totals[name] = LineTotals(totals.count_in, totals.count_out, totals.since_ts)
        return True

    def roll(self, now_s: float) -> List[str]:
        """Reset counters whose interval ended; returns the names reset."""
        reset = []
        for line in self._lines:
            if line.reset_interval_s <= 0.0:
                continue
            start = interval_start(now_s, line.reset_interval_s, now_s)
            if start > self.totals[line.name].since_ts:
                self.totals[line.name] = LineTotals(since_ts=start)
                reset.append(line.name)
        return reset

    def observe(self, uid: str, foot: Point) -> List[Crossing]:
        """Move a track's foot point; returns the crossings this move made."""
        prev: Optional[Point] = self._last_foot.get(uid)
        self._last_foot[uid] = foot
        if prev is None:
            return []
        found = []
        for line in self._lines:
            direction = crossing(prev, foot, line.start, line.end)
            if direction is None:
                continue
            totals = self.totals[line.name]
            if direction == "in":
                totals.count_in += 1
            else:
                totals.count_out += 1
            found.append(Crossing(line.name, uid, direction))
        return found

    def forget(self, uid: str) -> None:
        """Drop an ended track's last position."""
        self._last_foot.pop(uid, None)
