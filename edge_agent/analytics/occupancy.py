"""Who is in which zone, how many (and how many moving), and for how long.

Fed once per processed frame with the foot points of the tracks a subscriber sees
(`track_points(TrackerStep.tracks, ...)`). A track reported with a predicted box (lost for
at most the tracker's short gap) stays in its last zone: occupancy must not flap when
someone walks behind a pillar. A track lost for longer is not in the step's tracks, so it is
not counted anywhere until it is found again (its zone memory is kept for that moment).
"Active" counts only people moving faster than a threshold, so a dashboard can tell a queue
from a passing crowd.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Set, Tuple

import numpy as np

from edge_agent.analytics.geometry import foot_points, points_in_polygon
from edge_agent.analytics.zone_coverage import Zone


@dataclass(frozen=True)
class TrackPoint:
    """One visible track as analytics sees it."""

    uid: str
    foot: Tuple[float, float]
    speed: float
    """Foot speed in frame heights per second."""
    lost: bool = False


def track_points(tracks: Sequence[Any], frame_size_wh: Tuple[int, int]) -> List[TrackPoint]:
    """Analytics' view of the published tracks of one frame (`TrackerStep.tracks`).

    Uses each track's reported box (`last_box`: the detection, or the prediction while
    `predicted`), its velocity in px/s scaled to frame heights per second, and marks
    predicted tracks `lost` (they keep their zones and never cross a line).
    """
    width, height = frame_size_wh
    boxes = np.array([t.last_box for t in tracks], dtype=np.float64).reshape(-1, 4)
    feet = foot_points(boxes, (width, height))
    return [
        TrackPoint(t.uid, (float(feet[i][0]), float(feet[i][1])),
                   float(np.hypot(*np.asarray(t.velocity_px_s, dtype=np.float64)[:2]))
                   / max(height, 1),
                   bool(getattr(t, "predicted", False)))
        for i, t in enumerate(tracks)
    ]


@dataclass(frozen=True)
class ZoneCount:
    """People in a zone now, and how many of them are moving."""

    current: int
    active: int


@dataclass(frozen=True)
class OccupancyStep:
    """Zones per track before and after this frame, and the counts."""

    before: Dict[str, List[str]]
    after: Dict[str, List[str]]
    counts: Dict[str, ZoneCount]


class ZoneOccupancy:
    """Zone membership, counts and dwell times of one camera's tracks."""

    def __init__(self, zones: Sequence[Zone], active_min_speed: float) -> None:
        self._zones = tuple(zones)
        self._active_min_speed = active_min_speed
        self._inside: Dict[str, Set[str]] = {}
        self._entered_ts: Dict[Tuple[str, str], float] = {}
        self._dwell_s: Dict[Tuple[str, str], float] = {}

    @property
    def zone_names(self) -> List[str]:
        """Zone names in configuration order."""
        return [zone.name for zone in self._zones]

    def update(self, now_s: float, tracks: Sequence[TrackPoint]) -> OccupancyStep:
        """Place every track; tracks not listed keep no zone (call forget() when they end)."""
        feet = np.array([t.foot for t in tracks], dtype=np.float64).reshape(-1, 2)
        member = {z.name: points_in_polygon(feet, z.polygon) for z in self._zones}
        before: Dict[str, List[str]] = {}
        after: Dict[str, List[str]] = {}
        counts = {name: [0, 0] for name in self.zone_names}
        for index, track in enumerate(tracks):
            old = self._inside.get(track.uid, set())
            if track.lost:
                new = set(old)
            else:
                new = {name for name in self.zone_names if member[name][index]}
            for name in new - old:
                self._entered_ts[(track.uid, name)] = now_s
            for name in old - new:
                self._close(track.uid, name, now_s)
            self._inside[track.uid] = new
            before[track.uid] = [n for n in self.zone_names if n in old]
            after[track.uid] = [n for n in self.zone_names if n in new]
            moving = not track.lost and track.speed >= self._active_min_speed
            for name in new:
                counts[name][0] += 1
                counts[name][1] += int(moving)
        return OccupancyStep(
            before, after, {name: ZoneCount(c[0], c[1]) for name, c in counts.items()}
        )

    def _close(self, uid: str, zone: str, now_s: float) -> None:
        start = self._entered_ts.pop((uid, zone), None)
        if start is not None:
            key = (uid, zone)
            self._dwell_s[key] = self._dwell_s.get(key, 0.0) + max(now_s - start, 0.0)

    def dwell_s(self, uid: str, now_s: float) -> Dict[str, float]:
        """Seconds this track has spent in each zone it visited (ongoing visits included)."""
        out: Dict[str, float] = {}
        for (owner, zone), total in self._dwell_s.items():
            if owner == uid:
                out[zone] = total
        for (owner, zone), start in self._entered_ts.items():
            if owner == uid:
                out[zone] = out.get(zone, 0.0) + max(now_s - start, 0.0)
        return {k: round(v, 3) for k, v in out.items()}

    def forget(self, uid: str, now_s: float) -> Dict[str, float]:
        """Drop an ended track's state (bounded memory); returns its final dwell times."""
        for zone in list(self._inside.get(uid, ())):
            self._close(uid, zone, now_s)
        final = self.dwell_s(uid, now_s)
        self._inside.pop(uid, None)
        for key in [k for k in self._dwell_s if k[0] == uid]:
            del self._dwell_s[key]
        return final

    def zones_of(self, uid: str) -> List[str]:
        """Zones a track is in now, in configuration order."""
        inside = self._inside.get(uid, set())
        return [name for name in self.zone_names if name in inside]

    @property
    def min_speed(self) -> float:
        """Speed (frame heights per second) from which a person counts as active."""
        return self._active_min_speed

    @property
    def tracked_uids(self) -> int:
        """How many tracks analytics holds state for (for the bounded-memory test)."""
        return len(self._inside)
