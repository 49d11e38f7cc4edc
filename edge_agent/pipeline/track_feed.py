"""The tracks feed: each frame's confirmed people, handed from the tracker to crop tasks.

The tracker stays where it was (the tracking sink on the event worker, single-threaded, its
published stream unchanged); after each step it also lists the frame's confirmed tracks, and
the daemon hands that list to the runtime as the feed `tracks` (TaskRuntime.feed). Crop tasks
that need tracked people (pose) declare `upstream = "tracks"` and get the list for the same
frame in their inbox, like ReID gets PeopleNet's boxes. docs/architecture.md says why this
design and not a tracking task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Tuple

import numpy as np

TRACKS_FEED = "tracks"


@dataclass(frozen=True)
class TrackedPerson:
    """One confirmed track matched to a detection in this frame."""

    track_id: int
    uid: str
    box_xyxy: Tuple[float, float, float, float]
    zones: Tuple[str, ...]


@dataclass(frozen=True)
class FrameTracks:
    """The confirmed people of one frame, and every live track id of its camera (for pruning
    per-track state of tracks that ended)."""

    camera_id: str
    people: Tuple[TrackedPerson, ...]
    live_track_ids: FrozenSet[int]

    def boxes_xyxy(self) -> np.ndarray:
        """[K, 4] float32 boxes of `people`."""
        return np.array([p.box_xyxy for p in self.people], dtype=np.float32).reshape(-1, 4)
