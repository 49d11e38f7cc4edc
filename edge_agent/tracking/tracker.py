"""Per-camera tracker: Kalman prediction, IoU + ReID cost, Hungarian assignment, lifecycle.

Each update predicts every live track to the frame's time, builds one cost matrix
(1 - IoU blended with cosine distance of ReID embeddings when both sides have one), solves it
with scipy's linear_sum_assignment, and moves tracks through the lifecycle in track.py. Gates
keep absurd pairs apart: a pair is allowed if the boxes overlap enough, or, for a track that
has an appearance, if the appearance is close and the detection lies within a few body
heights of the prediction (how an occluded person is found again after the prediction
drifted). Time is the frame's capture time in seconds, so cameras at any rate behave alike.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import List, Optional, Set, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from edge_agent.models.detect_cluster import iou_matrix
from edge_agent.tracking import kalman
from edge_agent.tracking.detections import sanitize
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.track import Track, TrackState

_INFEASIBLE = 1e6
_TENTATIVE_PENALTY = 0.05


@dataclass(frozen=True)
class TrackerParams:
    """Association and lifecycle settings (see settings/tracking.py for their meaning)."""

    min_hits: int = 3
    max_lost_s: float = 2.0
    iou_gate: float = 0.2
    appearance_gate: float = 0.3
    appearance_weight: float = 0.5
    embedding_momentum: float = 0.9
    reach_heights: float = 2.0
    max_tracks: int = 500
    min_box_px: float = 2.0


@dataclass(frozen=True)
class TrackerStep:
    """What one update changed: tracks to report, and lifecycle transitions."""

    tracks: List[Track]
    """Confirmed and lost tracks after this frame (what is counted and drawn)."""
    born: List[Track]
    """Tracks confirmed for the first time in this frame."""
    ended: List[Track]
    """Published tracks that ended in this frame."""
    dropped_detections: int


class Tracker:
    """Tracks people of one camera; call update() once per processed frame, in time order."""

    def __init__(
        self,
        camera_id: str,
        params: TrackerParams,
        gallery: Optional[Gallery] = None,
        uid_prefix: str = "",
    ) -> None:
        self.camera_id = camera_id
        self.params = params
        self.gallery = gallery
        self._uid_prefix = uid_prefix or camera_id
        self._ids = itertools.count(1)
        self._tracks: List[Track] = []
        self._last_ts: Optional[float] = None
        self.dropped_detections = 0
        self.refused_tracks = 0

    @property
    def live_tracks(self) -> List[Track]:
        """Every track not ended (tentative included)."""
        return list(self._tracks)

    def update(
        self,
        now_s: float,
        boxes: np.ndarray,
        scores: np.ndarray,
        embeddings: Optional[np.ndarray] = None,
    ) -> TrackerStep:
        """Advance to `now_s` with this frame's detections (frame px, x1 y1 x2 y2)."""
        clean = sanitize(boxes, scores, embeddings, self.params.min_box_px)
        self.dropped_detections += clean.dropped
        dt = 0.0 if self._last_ts is None else max(now_s - self._last_ts, 0.0)
        self._last_ts = now_s if self._last_ts is None else max(now_s, self._last_ts)
        self._predict(dt)
        rows, cols = self._associate(clean.boxes, clean.embeddings, now_s)
        born: List[Track] = []
        self._apply_matches(rows, cols, clean.boxes, clean.scores, clean.embeddings, now_s, born)
        ended = self._age(set(rows), now_s)
        self._spawn(set(cols), clean.boxes, clean.scores, clean.embeddings, now_s, born)
        visible = [t for t in self._tracks if t.state in (TrackState.CONFIRMED, TrackState.LOST)]
        return TrackerStep(visible, born, ended, clean.dropped)

    def _predict(self, dt: float) -> None:
        if not self._tracks or dt <= 0.0:
            return
        x = np.stack([t.x for t in self._tracks])
        p = np.stack([t.p for t in self._tracks])
        x, p = kalman.predict(x, p, dt)
        for track, xi, pi in zip(self._tracks, x, p):
            track.x, track.p = xi, pi

    def _associate(
        self, boxes: np.ndarray, embeddings: Optional[np.ndarray], now_s: float
    ) -> Tuple[List[int], List[int]]:
        if not self._tracks or len(boxes) == 0:
            return [], []
        params = self.params
        predicted = kalman.z_to_box(np.stack([t.x[:4] for t in self._tracks]))
        iou = iou_matrix(predicted, boxes)
        cost = 1.0 - iou
        allowed = iou >= params.iou_gate
        if embeddings is not None:
            has_app = np.array([t.embedding is not None for t in self._tracks])
            if has_app.any():
                dim = embeddings.shape[1]
                track_emb = np.stack(
                    [t.embedding if t.embedding is not None else np.zeros(dim, np.float32)
                     for t in self._tracks]
                )
                app = np.clip(1.0 - track_emb @ embeddings.T, 0.0, 2.0)
                w = params.appearance_weight
                blended = w * app + (1.0 - w) * cost
                cost = np.where(has_app[:, None], blended, cost)
                centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
                pred_c = (predicted[:, :2] + predicted[:, 2:]) / 2.0
                dist = np.linalg.norm(pred_c[:, None, :] - centres[None, :, :], axis=2)
                reach = params.reach_heights * np.maximum(predicted[:, 3] - predicted[:, 1], 1.0)
                confirmed = np.array([t.state != TrackState.TENTATIVE for t in self._tracks])
                near = dist <= reach[:, None]
                allowed |= (has_app & confirmed)[:, None] & near & (app <= params.appearance_gate)
                allowed &= ~(has_app[:, None] & (app > 2 * params.appearance_gate))
        tentative = np.array([t.state == TrackState.TENTATIVE for t in self._tracks])
        cost = cost + tentative[:, None] * _TENTATIVE_PENALTY
        cost = np.where(allowed, cost, _INFEASIBLE)
        rows, cols = linear_sum_assignment(cost)
        keep = cost[rows, cols] < _INFEASIBLE
        return [int(r) for r in rows[keep]], [int(c) for c in cols[keep]]

    def _apply_matches(
        self,
        rows: List[int],
        cols: List[int],
        boxes: np.ndarray,
        scores: np.ndarray,
        embeddings: Optional[np.ndarray],
        now_s: float,
        born: List[Track],
    ) -> None:
        if not rows:
            return
        tracks = [self._tracks[r] for r in rows]
        x = np.stack([t.x for t in tracks])
        p = np.stack([t.p for t in tracks])
        x, p = kalman.update(x, p, kalman.box_to_z(boxes[cols]))
        mixed = None
        if embeddings is not None:
            # One vectorised EMA for all matched tracks (a per-track loop costs ~4 us each).
            new = embeddings[cols]
            old = np.stack([t.embedding if t.embedding is not None else new[i]
                            for i, t in enumerate(tracks)])
            momentum = self.params.embedding_momentum
            mixed = momentum * old + (1.0 - momentum) * new
            mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
        for i, (track, col) in enumerate(zip(tracks, cols)):
            track.x, track.p = x[i], p[i]
            track.last_box = boxes[col].copy()
            track.last_ts = now_s
            track.hits += 1
            track.score = float(scores[col])
            track.top_score = max(track.top_score, track.score)
            if mixed is not None:
                track.embedding = mixed[i].astype(np.float32)
            if track.state == TrackState.LOST:
                track.state = TrackState.CONFIRMED
            elif track.state == TrackState.TENTATIVE and track.hits >= self.params.min_hits:
                self._confirm(track, now_s)
                born.append(track)

    def _confirm(self, track: Track, now_s: float) -> None:
        track.state = TrackState.CONFIRMED
        reid_id = None
        if self.gallery is not None and track.embedding is not None:
            reid_id = self.gallery.claim(track.embedding, self.camera_id, now_s)
        if reid_id is None:
            reid_id = self.gallery.new_id() if self.gallery is not None else track.uid
        track.reid_id = reid_id

    def _age(self, matched: Set[int], now_s: float) -> List[Track]:
        ended: List[Track] = []
        survivors: List[Track] = []
        for index, track in enumerate(self._tracks):
            if index not in matched:
                if track.state == TrackState.TENTATIVE:
                    track.state = TrackState.ENDED
                elif track.state == TrackState.CONFIRMED:
                    track.state = TrackState.LOST
                if (track.state == TrackState.LOST
                        and now_s - track.last_ts > self.params.max_lost_s):
                    track.state = TrackState.ENDED
                    ended.append(track)
                    if self.gallery is not None and track.embedding is not None:
                        self.gallery.remember(track.reid_id, track.embedding, self.camera_id,
                                              now_s)
            if track.state != TrackState.ENDED:
                survivors.append(track)
        self._tracks = survivors
        return ended

    def _spawn(
        self,
        matched: Set[int],
        boxes: np.ndarray,
        scores: np.ndarray,
        embeddings: Optional[np.ndarray],
        now_s: float,
        born: List[Track],
    ) -> None:
        fresh = [c for c in range(len(boxes)) if c not in matched]
        room = self.params.max_tracks - len(self._tracks)
        if len(fresh) > room:
            self.refused_tracks += len(fresh) - max(room, 0)
            fresh = fresh[: max(room, 0)]
        if not fresh:
            return
        x, p = kalman.initiate(kalman.box_to_z(boxes[fresh]))
        for i, col in enumerate(fresh):
            number = next(self._ids)
            track = Track(
                track_id=number,
                uid=f"{self._uid_prefix}-{number}",
                camera_id=self.camera_id,
                x=x[i],
                p=p[i],
                first_ts=now_s,
                last_ts=now_s,
                score=float(scores[col]),
                top_score=float(scores[col]),
                last_box=boxes[col].copy(),
            )
            if embeddings is not None:
                track.observe_embedding(embeddings[col], self.params.embedding_momentum)
            self._tracks.append(track)
            if self.params.min_hits <= 1:
                self._confirm(track, now_s)
                born.append(track)

    def end_all(self, now_s: float) -> List[Track]:
        """End every published track (agent stopping); returns them for 'end' events."""
        ended = [t for t in self._tracks if t.state in (TrackState.CONFIRMED, TrackState.LOST)]
        for track in ended:
            track.state = TrackState.ENDED
        self._tracks = []
        return ended
