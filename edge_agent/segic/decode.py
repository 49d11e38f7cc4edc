"""From one prompt's mask logits to the mask SegIC publishes (contract post-processing).

Per the contract: crop to the resized area, bilinear back to the frame, threshold > 0, and of
the P masks (one per example) keep the one with the largest foreground area. The score is ours
(the model gives none): the mean sigmoid of the logits over the kept mask's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_agent.segic.letterbox import Letterbox, logits_to_frame, threshold


@dataclass(frozen=True)
class PromptMask:
    """One prompt's answer for one frame: frame-size boolean mask, score and which example."""

    prompt_id: str
    mask: np.ndarray
    score: float
    example: int
    run_ms: float

    @property
    def area_fraction(self) -> float:
        """Share of the frame the mask covers."""
        return float(np.count_nonzero(self.mask)) / float(max(self.mask.size, 1))


def decode_prompt(prompt_id: str, logits: np.ndarray, box: Letterbox, run_ms: float
                  ) -> PromptMask:
    """The kept mask of one prompt's [P, 1, 896, 896] logits on a frame of `box`'s size."""
    frame_logits = logits_to_frame(np.asarray(logits, dtype=np.float32), box)
    masks = threshold(frame_logits)
    areas = masks.reshape(masks.shape[0], -1).sum(axis=1)
    best = int(np.argmax(areas))
    mask = masks[best]
    if areas[best] == 0:
        return PromptMask(prompt_id, mask, 0.0, best, run_ms)
    inside = frame_logits[best][mask].astype(np.float64)
    score = float(np.mean(1.0 / (1.0 + np.exp(-np.clip(inside, -60.0, 60.0)))))
    return PromptMask(prompt_id, mask, score, best, run_ms)
