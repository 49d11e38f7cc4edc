"""When pose events fire, and how many people of each pose a zone holds.

Pure decisions; publishing is the event layer's job (events.pose_payloads holds the schemas).

* A pose event fires when a track's *stable* class (after pose.hysteresis) changes to a
  class, never on every classification, and never for "no confident class".
* sitting, standing and walking are states (how someone is); sitting_down, getting_up and
  jumping are actions (something someone did). A retrained model's other labels count as
  states unless listed in `ACTION_CLASSES`.
* Zone counts are by stable class, with people in the zone whose pose is not (yet) known
  counted as "unknown", so the classes always add up to the zone's people count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

from typing_extensions import Literal

STATE_CLASSES: Tuple[str, ...] = ("sitting", "standing", "walking")
ACTION_CLASSES: Tuple[str, ...] = ("sitting_down", "getting_up", "jumping")
UNKNOWN = "unknown"

PoseKind = Literal["state", "action"]


def pose_kind(label: str) -> PoseKind:
    """'action' for the three action classes, 'state' for everything else."""
    return "action" if label in ACTION_CLASSES else "state"


@dataclass(frozen=True)
class PoseChange:
    """A track's stable pose became `pose` (was `previous`, None if it had none)."""

    camera_id: str
    track_id: int
    pose: str
    previous: Optional[str]
    kind: PoseKind
    probability: float
    ts_s: float


def pose_change(
    camera_id: str,
    track_id: int,
    previous: Optional[str],
    current: Optional[str],
    probability: float,
    ts_s: float,
) -> Optional[PoseChange]:
    """The event for a stable-class transition, or None when there is nothing to say."""
    if current is None or current == previous:
        return None
    return PoseChange(
        camera_id=camera_id,
        track_id=track_id,
        pose=current,
        previous=previous,
        kind=pose_kind(current),
        probability=probability,
        ts_s=ts_s,
    )


def zone_pose_counts(
    people: Iterable[Tuple[Sequence[str], Optional[str]]],
    zones: Sequence[str],
    labels: Sequence[str],
) -> Dict[str, Dict[str, int]]:
    """{zone: {label: count, ..., 'unknown': count}} from (zones of a person, pose) pairs.

    Every zone and every label appears (zeros included) so a retained count drops to 0
    instead of keeping its last non-zero value.
    """
    counts = {zone: {label: 0 for label in list(labels) + [UNKNOWN]} for zone in zones}
    for person_zones, pose in people:
        key = pose if pose is not None and pose in labels else UNKNOWN
        for zone in person_zones:
            if zone in counts:
                counts[zone][key] += 1
    return counts


class ChangedCounts:
    """Remembers the last published counts per (camera, zone) and reports only changes."""

    def __init__(self) -> None:
        self._last: Dict[Tuple[str, str], Dict[str, int]] = {}

    def changed(
        self, camera_id: str, counts: Dict[str, Dict[str, int]]
    ) -> List[Tuple[str, Dict[str, int]]]:
        """(zone, counts) pairs that differ from the last call's, recorded as published."""
        result = []
        for zone, by_label in counts.items():
            key = (camera_id, zone)
            if self._last.get(key) != by_label:
                self._last[key] = dict(by_label)
                result.append((zone, by_label))
        return result


class KeypointRateLimiter:
    """At most one keypoint message per key (track) per `min_interval_s`."""

    def __init__(self, min_interval_s: float) -> None:
        self.min_interval_s = min_interval_s
        self._last: Dict[Hashable, float] = {}

    def allow(self, key: Hashable, ts_s: float) -> bool:
        last = self._last.get(key)
        if last is not None and ts_s - last < self.min_interval_s:
            return False
        self._last[key] = ts_s
        return True

    def forget(self, live: Iterable[Hashable]) -> None:
        """Drop keys not in `live` (ended tracks)."""
        keep = set(live)
        for key in [k for k in self._last if k not in keep]:
            del self._last[key]
