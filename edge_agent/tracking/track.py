"""One tracked person: lifecycle state, last box, appearance and identity.

Lifecycle: a detection no track claims starts a TENTATIVE track; after `min_hits` matches it
is CONFIRMED (and only then published); a confirmed track that misses detections is LOST
(still counted, its box predicted) and becomes CONFIRMED again if matched within
`max_lost_s`, which is what carries an identity through short occlusions; after that it is
ENDED and removed. A tentative track that misses once is discarded without ever being seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Optional

import numpy as np


class TrackState(str, Enum):
    """Where a track is in its life."""

    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"
    ENDED = "ended"


@dataclass
class Track:
    """Mutable state of one track; owned by exactly one Tracker (one thread)."""

    track_id: int
    uid: str
    camera_id: str
    x: np.ndarray
    p: np.ndarray
    first_ts: float
    last_ts: float
    score: float
    state: TrackState = TrackState.TENTATIVE
    hits: int = 1
    top_score: float = 0.0
    embedding: Optional[np.ndarray] = None
    reid_id: str = ""
    last_box: np.ndarray = field(default_factory=lambda: np.zeros(4))

    @property
    def published(self) -> bool:
        """Consumers know this track: it was confirmed at least once."""
        return self.state in (TrackState.CONFIRMED, TrackState.LOST) or bool(self.reid_id)

    @property
    def velocity_px_s(self) -> np.ndarray:
        """Estimated (vcx, vcy) in pixels per second."""
        return self.x[4:6]

    def observe_embedding(self, embedding: np.ndarray, momentum: float) -> None:
        """Blend a new unit embedding into the track's appearance (EMA, renormalised)."""
        if self.embedding is None:
            self.embedding = embedding.astype(np.float32, copy=True)
            return
        mixed = momentum * self.embedding + (1.0 - momentum) * embedding
        norm = float(np.linalg.norm(mixed))
        if norm > 0.0:
            self.embedding = (mixed / norm).astype(np.float32)
