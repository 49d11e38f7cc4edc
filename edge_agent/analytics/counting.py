"""One camera's counting: zone occupancy, line counters, restore and warm-up.

Ties occupancy.py and lines.py to the saved state: `restore()` takes the last saved counts,
`published_counts()` says what may be published now (restored counts during warm-up, live
counts after, and None rather than a bogus zero when nothing trustworthy is known yet), and
`snapshot()` is what the stage saves.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from edge_agent.analytics.lines import Crossing, LineCounters, LineSpec, LineTotals
from edge_agent.analytics.occupancy import OccupancyStep, TrackPoint, ZoneCount, ZoneOccupancy
from edge_agent.analytics.zone_coverage import Zone


class CameraCounting:
    """Counts of one camera across frames and restarts."""

    def __init__(
        self,
        zones: Sequence[Zone],
        lines: Sequence[LineSpec],
        active_min_speed: float,
        warmup_s: float,
        started_s: float,
    ) -> None:
        self.occupancy = ZoneOccupancy(zones, active_min_speed)
        self.lines = LineCounters(list(lines), started_s)
        self._warm_at = started_s + warmup_s
        self._live: Optional[Dict[str, ZoneCount]] = None
        self._restored: Optional[Dict[str, ZoneCount]] = None

    def restore(self, saved: Dict[str, Any], saved_ts: float, now_s: float,
                max_age_s: float) -> None:
        """Take zone counts (if recent) and line totals (if same interval) from a snapshot."""
        zones = saved.get("zones") or {}
        names = set(self.occupancy.zone_names)
        if now_s - saved_ts <= max_age_s and names and names <= set(zones):
            self._restored = {
                name: ZoneCount(int(zones[name]["current"]), int(zones[name]["active"]))
                for name in names
            }
        for name, raw in (saved.get("lines") or {}).items():
            totals = LineTotals(int(raw["in"]), int(raw["out"]), float(raw["since"]))
            self.lines.restore(name, totals, now_s)

    def update(self, now_s: float, tracks: Sequence[TrackPoint]) -> OccupancyStep:
        """Place tracks in zones and remember the live counts."""
        step = self.occupancy.update(now_s, tracks)
        self._live = step.counts
        return step

    def observe_lines(self, now_s: float, tracks: Sequence[TrackPoint]) -> List[Crossing]:
        """Reset due counters, then count crossings of the tracks matched in this frame.

        Predicted positions (lost tracks) never move a track across a line: the crossing is
        counted once the person is seen again, from their last seen side.
        """
        self.lines.roll(now_s)
        return self.lines.observe_frame(
            now_s, [(t.uid, t.foot) for t in tracks if not t.lost])

    def forget(self, uid: str, now_s: float) -> Dict[str, float]:
        """Drop an ended track; returns its dwell times."""
        self.lines.forget(uid)
        return self.occupancy.forget(uid, now_s)

    def warm(self, now_s: float) -> bool:
        """The tracker has run long enough for live counts to be trusted."""
        return now_s >= self._warm_at

    def published_counts(self, now_s: float) -> Optional[Dict[str, ZoneCount]]:
        """Counts to publish now, or None when nothing trustworthy is known."""
        if self.warm(now_s) and self._live is not None:
            return self._live
        return self._restored

    def snapshot(self, now_s: float) -> Dict[str, Any]:
        """JSON-ready state of this camera for StateStore."""
        counts = self.published_counts(now_s) or {}
        return {
            "zones": {n: {"current": c.current, "active": c.active} for n, c in counts.items()},
            "lines": {
                n: {"in": t.count_in, "out": t.count_out, "since": t.since_ts}
                for n, t in self.lines.totals.items()
            },
        }
