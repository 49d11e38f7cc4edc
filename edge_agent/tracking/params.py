"""Tracker settings with the measurement behind every default.

Defaults were chosen on TUD-Campus (motmetrics' package data, 25 fps, 71 frames) replayed by
`edge-agent eval tracking` in conditions that bracket real use: ground-truth boxes with 10 %
dropped and 5 % coordinate jitter (a good detector), CEM's own output boxes (a poor one),
and the first with detector-like scores and false positives added; one parameter changed at
a time from the defaults. No value is tuned per file: one set serves all of them.
docs/tracking.md has the method; the appearance settings keep their earlier values (no
public data with embeddings was at hand to re-measure them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrackerParams:
    """Association and lifecycle settings (see settings/tracking.py for the user's view).

    Figures quoted below are (MOTA, IDF1) from `eval tracking` on TUD-Campus: "GT" = ground
    truth boxes, 10 % dropped, 5 % jitter, mean of 5 seeds; "CEM" = CEM's boxes; "scored" =
    GT plus detector-like scores N(0.8, 0.15) and 0.5 false positives per frame scoring
    0.1-0.75 (bench-style synthetic, mean of 5 seeds). Frame size known (640x480).
    """

    min_hits: int = 2
    """Matches before a track of ordinary confidence is confirmed (together with confirm_s).
    With instant confirmation off: 2 -> GT 0.927, 3 -> 0.926 and every track loses one more
    box; 1 lets every false positive through (scored 0.70 vs 0.90). 1 also means 'confirm
    every track at once' regardless of confirm_s."""
    confirm_s: float = 0.05
    """Least time between a track's first and latest match before it is confirmed: the
    second frame at 25 fps and at 5 fps alike. 0.15 s (4 frames at 25 fps) costs GT 0.05
    MOTA (0.877 vs 0.927) for nothing in return (scored 0.856 vs 0.901)."""
    confirm_score: float = 0.8
    """A detection at least this confident starts a confirmed track at once. Scored: 0.6 ->
    0.766, 0.7 -> 0.896, 0.8 -> 0.932, 0.9 -> 0.923, never -> 0.901; GT: never -> 0.927
    vs 0.975 (the first box of every track is then lost)."""
    high_score: float = 0.5
    """Detections at or above this score enter the first association round and may start
    tracks (ByteTrack's track threshold). Scored: 0.4 -> 0.879, 0.5 -> 0.896, 0.6 -> 0.896."""
    low_score: float = 0.1
    """Detections below this are ignored (ByteTrack's low bound; 0.3 scores the same)."""
    tentative_max_misses: int = 1
    """A tentative track survives this many consecutive missed frames. With instant
    confirmation off, GT: 0 -> 0.923, 1 -> 0.927 (a 10 % dropout killed new tracks)."""
    max_lost_s: float = 2.0
    """How long a lost (unmatched) confirmed track may still be re-found, seconds."""
    predict_gap_s: float = 0.3
    """A lost track is published with its predicted box (flagged predicted) for this long.
    GT: 0 -> 0.891, 0.3 -> 0.975, 0.6 -> 0.953; CEM: 0 -> 0.540, 0.3 -> 0.557, 0.6 -> 0.510
    (predictions drift off people who really stopped being visible)."""
    min_inside_share: float = 0.7
    """A lost track is reported with its prediction only while this share of the predicted
    box lies inside the frame (when the frame size is known): people walking out are not
    predicted beyond the edge. GT: no check 0.921, 0.5 0.973, 0.7 0.975, 0.9 0.972; CEM:
    0.540, 0.549, 0.557, 0.543."""
    iou_gate: float = 0.2
    """Least IoU of a prediction and a detection for a first-round match. CEM: 0.1 ->
    0.532 / 0.530 (neighbours' boxes get taken), 0.2 and 0.3 -> 0.546 / 0.569."""
    low_iou_gate: float = 0.5
    """Least IoU in the second round (low-confidence detections), as in ByteTrack: a weak box
    must sit right on a track's prediction. Scored: 0.3 -> 0.870, 0.5 -> 0.896."""
    lost_cost_per_s: float = 0.5
    """Extra match cost per second a track has been lost beyond one frame, so a track matched
    a frame ago wins a contested detection. GT: 0 -> 0.962 / 0.920 (lost tracks steal
    neighbours' boxes: IDF1 min 0.85), 0.5 -> 0.975 / 0.988; 1.0 scores as 0.5."""
    max_match_cost: float = 1.3
    """A pair is matched only when its total cost is below this; otherwise both stay
    unmatched. Forcing every feasible pair (plain Hungarian) gave GT IDF1 0.946 (min 0.85);
    1.0 -> CEM 0.546 / 0.569, 1.3 -> 0.549 / 0.594 (a track lost for 0.6 s can still take a
    box it overlaps by 0.6), 1.5 -> GT IDF1 0.972."""
    appearance_gate: float = 0.3
    """Largest cosine distance for an appearance match beyond the IoU gate."""
    appearance_weight: float = 0.5
    """Share of appearance (cosine distance) in the first-round cost; the rest is 1 - IoU."""
    embedding_momentum: float = 0.9
    """EMA weight of a track's old appearance when a new embedding is blended in."""
    reach_heights: float = 2.0
    """An appearance match may be this many body heights from the prediction."""
    max_tracks: int = 500
    """Most live tracks (tentative included); further new detections are refused, counted."""
    min_box_px: float = 2.0
    """Boxes narrower or lower than this are dropped and counted as bad input."""


def params_from_settings(cfg: Any) -> TrackerParams:
    """TrackerParams from a settings.tracking.TrackingSettings (duck-typed: no pydantic here)."""
    return TrackerParams(
        min_hits=cfg.min_hits, confirm_s=cfg.confirm_s, confirm_score=cfg.confirm_score,
        high_score=cfg.high_score, low_score=cfg.low_score, max_lost_s=cfg.max_lost_s,
        predict_gap_s=cfg.predict_gap_s, iou_gate=cfg.iou_gate,
        appearance_gate=cfg.appearance_gate, appearance_weight=cfg.appearance_weight,
        max_tracks=cfg.max_tracks,
    )
