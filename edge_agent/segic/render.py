"""Draw SegIC masks over a frame, as a PNG (for snapshots and for checking prompts by eye).

Like TAO's demo app (contract step 3) each mask is blended at alpha 0.5; with several prompts
each gets its own colour (green first, as the demo draws its single mask), and the prompt id is
written at the mask's top-left corner so a snapshot says which prompt found what.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from edge_agent.segic.decode import PromptMask

# BGR: green (the demo's), then colours far from it and from each other.
PROMPT_COLOURS_BGR = ((0, 255, 0), (255, 0, 255), (0, 165, 255), (255, 255, 0), (0, 0, 255))


def draw_masks(frame_bgr: np.ndarray, masks: Sequence[PromptMask], alpha: float = 0.5
               ) -> np.ndarray:
    """A copy of the frame with each prompt's mask blended in its colour and labelled."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    out = frame_bgr.copy()
    for number, mask in enumerate(masks):
        if mask.mask.shape != frame_bgr.shape[:2]:
            raise ValueError(f"mask of prompt {mask.prompt_id!r} is {mask.mask.shape}, the "
                             f"frame {frame_bgr.shape[:2]}")
        if not mask.mask.any():
            continue
        colour = np.array(PROMPT_COLOURS_BGR[number % len(PROMPT_COLOURS_BGR)], np.float32)
        pixels = out[mask.mask].astype(np.float32)
        out[mask.mask] = np.clip(np.rint((1 - alpha) * pixels + alpha * colour), 0, 255
                                 ).astype(np.uint8)
        ys, xs = np.nonzero(mask.mask)
        cv2.putText(out, f"{mask.prompt_id} {mask.score:.2f}",
                    (int(xs.min()), max(int(ys.min()) - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    tuple(int(c) for c in colour), 1, cv2.LINE_AA)
    return out


def render_masks_png(frame_bgr: np.ndarray, masks: Sequence[PromptMask], alpha: float = 0.5
                     ) -> bytes:
    """PNG bytes of `draw_masks`."""
    ok, data = cv2.imencode(".png", draw_masks(frame_bgr, masks, alpha))
    if not ok:
        raise ValueError("OpenCV could not encode the snapshot as PNG")
    return bytes(data.tobytes())
