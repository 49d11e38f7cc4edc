"""Match costs and assignment for one association round (pure numpy + scipy).

Cost of a (track, detection) pair: 1 - IoU of the prediction and the detection, blended with
the cosine distance of the appearance embeddings when both sides have one, plus
`lost_cost_per_s` for every second the track has gone unmatched beyond one frame (so a track
seen a frame ago wins a detection that a long-lost track's drifting prediction also
overlaps), plus a small penalty for tentative tracks. Gates keep absurd pairs apart: a pair
is allowed when the boxes overlap enough or, for a confirmed track with an appearance, when
the appearance is close and the detection lies within a few body heights of the prediction
(how an occluded person is found again after the prediction drifted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from edge_agent.models.detect_cluster import iou_matrix

INFEASIBLE = 1e6
# Tentative tracks lose ties with confirmed ones: 0.05 is less than the IoU difference of two
# real candidates in the synthetic crossing tests yet breaks exact ties in favour of history.
TENTATIVE_PENALTY = 0.05


@dataclass(frozen=True)
class RoundInputs:
    """Per-track facts the cost needs, stacked in track order."""

    predicted: np.ndarray
    """Predicted boxes [T,4] (x1, y1, x2, y2)."""
    lost_s: np.ndarray
    """Seconds unmatched beyond the last frame interval [T]."""
    tentative: np.ndarray
    """Bool [T]."""
    embeddings: Optional[np.ndarray]
    """Unit appearance vectors [T,D], zero rows where a track has none, or None."""


def round_cost(
    inputs: RoundInputs,
    boxes: np.ndarray,
    det_embeddings: Optional[np.ndarray],
    iou_gate: float,
    lost_cost_per_s: float,
    appearance_gate: float = 0.3,
    appearance_weight: float = 0.0,
    reach_heights: float = 2.0,
) -> np.ndarray:
    """Cost matrix [T,D] with INFEASIBLE where the gates refuse a pair."""
    iou = iou_matrix(inputs.predicted, boxes)
    cost = 1.0 - iou
    allowed = iou >= iou_gate
    track_emb = inputs.embeddings
    if track_emb is not None and det_embeddings is not None and appearance_weight > 0.0:
        has_app = np.abs(track_emb).sum(axis=1) > 0.0
        app = np.clip(1.0 - track_emb @ det_embeddings.T, 0.0, 2.0)
        blended = appearance_weight * app + (1.0 - appearance_weight) * cost
        cost = np.where(has_app[:, None], blended, cost)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
        pred = inputs.predicted
        pred_c = (pred[:, :2] + pred[:, 2:]) / 2.0
        dist = np.linalg.norm(pred_c[:, None, :] - centres[None, :, :], axis=2)
        reach = reach_heights * np.maximum(pred[:, 3] - pred[:, 1], 1.0)
        near = dist <= reach[:, None]
        ok = (has_app & ~inputs.tentative)[:, None] & near & (app <= appearance_gate)
        allowed |= ok
        allowed &= ~(has_app[:, None] & (app > 2 * appearance_gate))
    cost = cost + inputs.tentative[:, None] * TENTATIVE_PENALTY
    cost = cost + (lost_cost_per_s * inputs.lost_s)[:, None]
    return np.where(allowed, cost, INFEASIBLE)


def assign(cost: np.ndarray, limit: float) -> Tuple[np.ndarray, np.ndarray]:
    """Minimum-cost matching where a pair is taken only if it costs less than `limit`.

    Plain linear_sum_assignment matches as many pairs as it can, so a detection is forced
    onto some feasible track even when leaving both unmatched is better (a long-lost track
    whose drifting prediction overlaps a newcomer took that newcomer's box on TUD-Campus).
    Every row and column therefore gets a dummy partner costing limit / 2, as in ByteTrack's
    lapjv call with cost_limit. Pairs that are alone in their row and column are decided
    without the solver, which keeps 50 people well under a millisecond.
    """
    empty = np.zeros(0, dtype=np.int64)
    if cost.size == 0:
        return empty, empty
    feasible = cost < limit
    row_count = feasible.sum(axis=1)
    col_count = feasible.sum(axis=0)
    lone = feasible & (row_count[:, None] == 1) & (col_count[None, :] == 1)
    lone_rows, lone_cols = np.nonzero(lone)
    # Rows and columns with a choice, and everything feasible that touches them, go to the
    # solver; the rest are the lone pairs above.
    busy_row = (row_count > 1) | (feasible & (col_count > 1)[None, :]).any(axis=1)
    busy_col = (col_count > 1) | (feasible & busy_row[:, None]).any(axis=0)
    busy_rows = np.flatnonzero(busy_row)
    busy_cols = np.flatnonzero(busy_col)
    if len(busy_rows) == 0:
        return lone_rows.astype(np.int64), lone_cols.astype(np.int64)
    sub = cost[np.ix_(busy_rows, busy_cols)]
    n_rows, n_cols = sub.shape
    big = np.full((n_rows + n_cols, n_cols + n_rows), INFEASIBLE)
    big[:n_rows, :n_cols] = np.where(sub < limit, sub, INFEASIBLE)
    big[np.arange(n_rows), n_cols + np.arange(n_rows)] = limit / 2.0
    big[n_rows + np.arange(n_cols), np.arange(n_cols)] = limit / 2.0
    big[n_rows:, n_cols:] = 0.0
    rows, cols = linear_sum_assignment(big)
    real = (rows < n_rows) & (cols < n_cols)
    rows, cols = busy_rows[rows[real]], busy_cols[cols[real]]
    return (np.concatenate([lone_rows, rows]).astype(np.int64),
            np.concatenate([lone_cols, cols]).astype(np.int64))
