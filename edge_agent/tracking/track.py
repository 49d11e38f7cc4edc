"""One tracked person: lifecycle state, last box, appearance and identity.

Lifecycle: a confident detection no track claims starts a CONFIRMED track at once, a less
confident one a TENTATIVE track that is confirmed once it has been matched `min_hits` times
over at least `confirm_s` seconds; a tentative track survives `tentative_max_misses` missed
frames, then is discarded without ever being seen. A confirmed track that misses detections is
LOST: for `predict_gap_s` it is still published with its predicted box (`predicted` True),
after that it is not published until it is matched again (CONFIRMED) within `max_lost_s`,
which is what carries an identity through occlusions; after that it is ENDED and removed.

`last_box` is the box reported for the latest frame: the matched detection, or the
prediction while `predicted`. `detected_box` is the latest matched detection.
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
    detected_box: np.ndarray = field(default_factory=lambda: np.zeros(4))
    misses: int = 0
    """Consecutive processed frames without a match."""
    predicted: bool = False
    """last_box is a prediction (the track is lost, within the short gap)."""

    def lost_s(self, now_s: float) -> float:
        """Seconds since the last matched detection."""
        return max(now_s - self.last_ts, 0.0)

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
