"""Part logits of person crops back to the frame: one class map per person, at box size.

The class with the highest logit wins per pixel at network resolution; the map is then resized
to the person's box with nearest-neighbour (labels must not blend) and placed at the box's
position, which is the whole "crop to frame" mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.parts.crops import Box, PersonCrop


@dataclass(frozen=True)
class PersonPartMap:
    """Part classes of one person: uint8/uint16 map [box_h, box_w] placed at `box`."""

    index: int
    box: Box
    class_map: np.ndarray

    def part_pixels(self) -> Dict[int, int]:
        """Pixel count per part class present (background 0 left out)."""
        values, counts = np.unique(self.class_map, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts) if v != 0}

    def frame_mask(self, class_id: int, frame_wh: Tuple[int, int]) -> np.ndarray:
        """Boolean [H, W] frame mask of one part of this person."""
        width, height = frame_wh
        mask = np.zeros((height, width), dtype=bool)
        x1, y1, x2, y2 = self.box
        mask[y1:y2, x1:x2] = self.class_map == class_id
        return mask


@dataclass(frozen=True)
class FramePartsResult:
    """Every segmented person of one frame, and the frame size."""

    frame_wh: Tuple[int, int]
    people: Tuple[PersonPartMap, ...]
    run_ms: float


def argmax_classes(logits: np.ndarray, dtype: type) -> np.ndarray:
    """Index of the largest of C planes [C, h, w] per pixel (first one on ties), as `dtype`.

    A running maximum over whole contiguous planes instead of np.argmax(axis=0), whose
    strided walk across 59 planes costs about ten times as much.
    """
    best = np.array(logits[0], dtype=np.float32, copy=True)
    index: np.ndarray = np.zeros(best.shape, dtype=dtype)
    for class_id in range(1, logits.shape[0]):
        plane = logits[class_id]
        better = plane > best
        np.copyto(best, plane, where=better)
        index[better] = class_id
    return index


def decode_people(logits: np.ndarray, crops: Sequence[PersonCrop]) -> List[PersonPartMap]:
    """[K, C, h, w] logits of K crops -> K part maps at their boxes' sizes."""
    if logits.shape[0] != len(crops):
        raise ValueError(f"part model returned {logits.shape[0]} maps for {len(crops)} crops")
    dtype = np.uint8 if logits.shape[1] <= 256 else np.uint16
    out = []
    for crop, person in zip(crops, logits):
        classes = argmax_classes(person, dtype)
        x1, y1, x2, y2 = crop.box
        resized = cv2.resize(classes, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        out.append(PersonPartMap(crop.index, crop.box, resized.reshape(y2 - y1, x2 - x1)))
    return out
