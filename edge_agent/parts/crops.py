"""Person boxes to part-model input: which people, where exactly, and the normalised blob.

Boxes are clipped and rounded outwards to whole pixels once, here; the same integer box is used
to cut the crop and, after inference, to paste the part map back, so a part mask lines up with
the frame pixel for pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple, Union

import cv2
import numpy as np

from edge_agent.models.manifest import Preprocess

Box = Tuple[int, int, int, int]


@dataclass(frozen=True)
class PersonCrop:
    """One person to segment: position in the upstream detections and the pixel box."""

    index: int
    box: Box


def pixel_box(box: Union[Sequence[float], np.ndarray], width: int, height: int) -> Box:
    """(x1, y1, x2, y2) in frame pixels, clipped to the frame, at least 1x1, half-open."""
    x1, y1, x2, y2 = (float(v) for v in box)
    left = int(min(max(np.floor(x1), 0), width - 1))
    top = int(min(max(np.floor(y1), 0), height - 1))
    right = int(min(max(np.ceil(x2), left + 1), width))
    bottom = int(min(max(np.ceil(y2), top + 1), height))
    return left, top, right, bottom


def select_people(boxes: np.ndarray, frame_wh: Tuple[int, int], min_height_px: int,
                  max_people: int) -> List[PersonCrop]:
    """People at least `min_height_px` tall after clipping, the `max_people` tallest, in
    upstream order (the order events list them)."""
    width, height = frame_wh
    crops = [PersonCrop(i, pixel_box(b, width, height))
             for i, b in enumerate(np.asarray(boxes, dtype=np.float64).reshape(-1, 4))]
    tall = [c for c in crops if c.box[3] - c.box[1] >= min_height_px]
    keep = sorted(tall, key=lambda c: (-(c.box[3] - c.box[1]), c.index))[:max_people]
    return sorted(keep, key=lambda c: c.index)


def crop_blob(frame_bgr: np.ndarray, crops: Sequence[PersonCrop], pre: Preprocess) -> np.ndarray:
    """Float32 [K, 3, H, W]: each crop stretched to the network size, y = scale*(x - offset).

    Offsets are given in the model's colour order (manifest convention); OpenCV's mean is in
    the order after its swap, which is the same thing.
    """
    if not crops:
        return np.zeros((0, 3, pre.height, pre.width), dtype=np.float32)
    images = [frame_bgr[c.box[1]:c.box[3], c.box[0]:c.box[2]] for c in crops]
    blob = cv2.dnn.blobFromImages(images, scalefactor=pre.scale, size=(pre.width, pre.height),
                                  mean=tuple(pre.offsets), swapRB=pre.color == "RGB", crop=False)
    return np.ascontiguousarray(blob, dtype=np.float32)
