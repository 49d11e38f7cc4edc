"""What a reload changes about the cameras, so only that is touched.

Pure comparison of two camera lists by id: added, removed, capture settings changed (the
camera must be reopened: URL, size, rate, reconnect timing ...), or only its zones/lines
changed (capture keeps running; the sinks swap geometry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence

from edge_agent.settings import CameraSettings

# Fields that only the event sinks read; everything else belongs to capture.
GEOMETRY_FIELDS = ("zones", "lines")


@dataclass(frozen=True)
class CameraDiff:
    """Camera ids per kind of change, and the settings of cameras to (re)open."""

    added: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    changed_capture: List[str] = field(default_factory=list)
    changed_geometry: List[str] = field(default_factory=list)
    reopened: List[CameraSettings] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when no camera changed at all."""
        return not (self.added or self.removed or self.changed_capture or self.changed_geometry)


def diff_cameras(old: Sequence[CameraSettings], new: Sequence[CameraSettings]) -> CameraDiff:
    """Compare the enabled cameras before and after a reload."""
    before = {camera.id: camera for camera in old}
    after = {camera.id: camera for camera in new}
    diff = CameraDiff(
        added=[cid for cid in after if cid not in before],
        removed=[cid for cid in before if cid not in after],
    )
    for cid, camera in after.items():
        previous = before.get(cid)
        if previous is None:
            diff.reopened.append(camera)
            continue
        capture_before = previous.model_dump(exclude=set(GEOMETRY_FIELDS))
        capture_after = camera.model_dump(exclude=set(GEOMETRY_FIELDS))
        if capture_before != capture_after:
            diff.changed_capture.append(cid)
            diff.reopened.append(camera)
        elif any(getattr(previous, name) != getattr(camera, name) for name in GEOMETRY_FIELDS):
            diff.changed_geometry.append(cid)
    return diff
