"""Skeletons, boxes and track ids drawn on a frame, for snapshots and the demo picture.

Pure: takes a BGR frame and what to draw, returns a new image (the frame is not modified).
Bones follow the reference app's OSD list; the person's left side is drawn in blue, the right
in red and the centre line in green, so a mirrored skeleton is visible at a glance. A joint
or bone is drawn only when its confidence exceeds `min_confidence` (the reference app draws
everything above 0; 0 here reproduces that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.pose.joints import DRAW_BONES, JOINT_NAMES

Colour = Tuple[int, int, int]
LEFT: Colour = (255, 80, 0)
RIGHT: Colour = (0, 0, 255)
CENTRE: Colour = (0, 200, 0)
JOINT: Colour = (54, 67, 245)
BOX: Colour = (0, 215, 255)


def _side(joint: int) -> int:
    name = JOINT_NAMES[joint]
    return 1 if name.startswith("left_") else -1 if name.startswith("right_") else 0


def bone_colour(a: int, b: int) -> Colour:
    """Blue for the left side, red for the right, green for bones along the middle."""
    sides = {_side(a), _side(b)}
    if sides == {1} or sides == {0, 1}:
        return LEFT
    if sides == {-1} or sides == {0, -1}:
        return RIGHT
    return CENTRE


@dataclass(frozen=True)
class RenderPerson:
    """What to draw for one person; any part may be missing."""

    box_xyxy: Optional[Sequence[float]] = None
    track_id: Optional[int] = None
    label: str = ""
    keypoints_px: Optional[np.ndarray] = None  # [34,2]
    confidence: Optional[np.ndarray] = None  # [34]


def draw_people(
    frame_bgr: np.ndarray, people: Sequence[RenderPerson], min_confidence: float = 0.0
) -> np.ndarray:
    """A copy of `frame_bgr` with each person's box, id/label and skeleton drawn."""
    image = np.ascontiguousarray(frame_bgr).copy()
    scale = max(image.shape[1] / 1280.0, 0.5)
    thickness = max(int(round(2 * scale)), 1)
    radius = max(int(round(3 * scale)), 1)
    for person in people:
        if person.keypoints_px is not None:
            _draw_skeleton(image, person, min_confidence, thickness, radius)
        if person.box_xyxy is not None:
            x1, y1, x2, y2 = (int(round(v)) for v in person.box_xyxy)
            cv2.rectangle(image, (x1, y1), (x2, y2), BOX, thickness)
            text = " ".join(
                part for part in (
                    f"#{person.track_id}" if person.track_id is not None else "", person.label
                ) if part
            )
            if text:
                cv2.putText(image, text, (x1 + 2, max(y1 - 5, 12)), cv2.FONT_HERSHEY_SIMPLEX,
                            0.5 * scale, BOX, thickness, cv2.LINE_AA)
    return image


def _draw_skeleton(
    image: np.ndarray, person: RenderPerson, min_confidence: float, thickness: int, radius: int
) -> None:
    points = np.asarray(person.keypoints_px, dtype=np.float64)
    conf = (
        np.ones(len(points)) if person.confidence is None else np.asarray(person.confidence)
    )
    shown = np.isfinite(points).all(axis=1) & (conf > min_confidence)
    pixel = np.where(shown[:, None], np.rint(points), 0).astype(np.int64)
    for a, b in DRAW_BONES:
        if shown[a] and shown[b]:
            cv2.line(image, (int(pixel[a, 0]), int(pixel[a, 1])),
                     (int(pixel[b, 0]), int(pixel[b, 1])), bone_colour(a, b), thickness,
                     cv2.LINE_AA)
    for joint in np.flatnonzero(shown):
        cv2.circle(image, (int(pixel[joint, 0]), int(pixel[joint, 1])), radius, JOINT, -1,
                   cv2.LINE_AA)
