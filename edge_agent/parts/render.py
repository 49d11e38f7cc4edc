"""Draw human parts in colour over a frame, as a PNG (for snapshots and debugging).

Each part class gets a fixed colour from the usual segmentation palette construction (the bits
of the class id spread over the three channels, high bits first), so the same part has the same
colour in every snapshot and on every device; boxes are outlined in white.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from edge_agent.parts.decode import PersonPartMap


def palette_bgr(classes: int) -> np.ndarray:
    """uint8 [classes, 3] BGR colours; class 0 (background) is black."""
    colours = np.zeros((classes, 3), dtype=np.uint8)
    for class_id in range(classes):
        value, r, g, b = class_id, 0, 0, 0
        for bit in range(8):
            r |= ((value >> 0) & 1) << (7 - bit)
            g |= ((value >> 1) & 1) << (7 - bit)
            b |= ((value >> 2) & 1) << (7 - bit)
            value >>= 3
        colours[class_id] = (b, g, r)
    return colours


def draw_parts(frame_bgr: np.ndarray, people: Sequence[PersonPartMap], classes: int,
               alpha: float = 0.5) -> np.ndarray:
    """A copy of the frame with every part blended in its colour (background untouched)."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    colours = palette_bgr(classes)
    out = frame_bgr.copy()
    for person in people:
        x1, y1, x2, y2 = person.box
        region = out[y1:y2, x1:x2].astype(np.float32)
        parts = person.class_map != 0
        tint = colours[np.minimum(person.class_map, classes - 1)].astype(np.float32)
        region[parts] = (1.0 - alpha) * region[parts] + alpha * tint[parts]
        out[y1:y2, x1:x2] = np.clip(np.rint(region), 0, 255).astype(np.uint8)
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), (255, 255, 255), 1)
    return out


def render_parts_png(frame_bgr: np.ndarray, people: Sequence[PersonPartMap], classes: int,
                     alpha: float = 0.5) -> bytes:
    """PNG bytes of `draw_parts`."""
    ok, data = cv2.imencode(".png", draw_parts(frame_bgr, people, classes, alpha))
    if not ok:
        raise ValueError("OpenCV could not encode the snapshot as PNG")
    return bytes(data.tobytes())
