"""Point-in-polygon and line-crossing tests in normalized image coordinates.

A person is "in" a zone when their foot point (bottom centre of the box) is, because that
is where they stand on the floor; the box centre of a tall person near a zone border would
sit in the neighbouring zone. Both tests are vectorised over people.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np

Point = Tuple[float, float]


def foot_points(boxes: np.ndarray, frame_size: Tuple[int, int]) -> np.ndarray:
    """Bottom-centre of boxes [N,4] (frame px) in normalized coordinates [N,2]."""
    width, height = frame_size
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2.0 / width, boxes[:, 3] / height], axis=1)


def points_in_polygon(points: np.ndarray, polygon: Sequence[Point]) -> np.ndarray:
    """Boolean [N]: even-odd ray casting of each point against the polygon."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64)
    x, y = pts[:, 0:1], pts[:, 1:2]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    hits = straddles & (x < x_cross)
    return np.asarray(hits.sum(axis=1) % 2 == 1)


def side(point: Point, start: Point, end: Point) -> float:
    """> 0 when `point` is right of start->end as seen on screen (y down), < 0 left."""
    return (end[0] - start[0]) * (point[1] - start[1]) - (end[1] - start[1]) * (
        point[0] - start[0]
    )


def signed_distance(point: Point, start: Point, end: Point) -> float:
    """Distance of `point` from the infinite line start->end, > 0 on its right (y down)."""
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    if length == 0.0:
        return 0.0
    return side(point, start, end) / length


def crossing(prev: Point, cur: Point, start: Point, end: Point) -> Optional[str]:
    """'in' (left -> right), 'out' (right -> left) or None for a move prev -> cur."""
    s_prev, s_cur = side(prev, start, end), side(cur, start, end)
    if s_prev == 0.0 or s_cur == 0.0 or (s_prev > 0) == (s_cur > 0):
        return None
    # The move crosses the infinite line; it counts only if it passes between the ends.
    t_start, t_end = side(start, prev, cur), side(end, prev, cur)
    if (t_start > 0) == (t_end > 0) and t_start != 0.0 and t_end != 0.0:
        return None
    return "in" if s_prev < 0 < s_cur else "out"
