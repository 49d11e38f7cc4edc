"""Input hygiene for the tracker: drop boxes that would poison the filter, and count them.

A NaN coordinate propagates through the Kalman filter into every later prediction of the
track that matched it, and a zero-height box makes the height-scaled noise zero; both must be
refused before association. A score outside [0, 1] is not a probability (a decoder bug or a
logit passed by mistake) and would bypass the confidence thresholds. Dropping is counted so
the stage can report it; nothing dropped can reach a published box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class CleanDetections:
    """Detections the tracker may use, plus how many were dropped."""

    boxes: np.ndarray
    scores: np.ndarray
    embeddings: Optional[np.ndarray]
    dropped: int


def sanitize(
    boxes: np.ndarray,
    scores: np.ndarray,
    embeddings: Optional[np.ndarray] = None,
    min_size_px: float = 1.0,
) -> CleanDetections:
    """Keep rows with finite values, scores in [0, 1], x2 - x1 and y2 - y1 >= min_size_px."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    keep = np.isfinite(boxes).all(axis=1) & np.isfinite(scores)
    with np.errstate(invalid="ignore"):
        keep &= (scores >= 0.0) & (scores <= 1.0)
        keep &= (boxes[:, 2] - boxes[:, 0] >= min_size_px) & (
            boxes[:, 3] - boxes[:, 1] >= min_size_px
        )
    emb = None
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if len(embeddings) != len(boxes):
            raise ValueError(f"{len(boxes)} boxes but {len(embeddings)} embeddings")
        keep &= np.isfinite(embeddings).all(axis=1)
        emb = embeddings[keep]
    return CleanDetections(boxes[keep], scores[keep], emb, int(len(boxes) - keep.sum()))
