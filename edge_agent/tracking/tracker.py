"""Per-camera tracker: Kalman prediction, two association rounds (ByteTrack), lifecycle.

Each update predicts every live track to the frame's time (lost tracks keep their size),
then associates in two rounds: detections scoring at least `high_score` against every track
with IoU blended with ReID appearance (association.py), then the detections between
`low_score` and `high_score` against the confirmed tracks still unmatched, by IoU alone and a
strict gate, so a person half hidden (whose detector score drops) keeps the track instead of
costing a miss. Unmatched confident detections start tracks; track.py has the lifecycle.

Time is the frame's monotonic capture time in seconds, so cameras at any rate behave alike
and a wall-clock step cannot age every track at once. `TrackerStep.tracks` is exactly what a
subscriber sees (published.py), for the agent and for `eval tracking` alike.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from edge_agent.tracking import kalman
from edge_agent.tracking.association import RoundInputs, assign, round_cost
from edge_agent.tracking.detections import sanitize
from edge_agent.tracking.gallery import Gallery
from edge_agent.tracking.params import TrackerParams, params_from_settings
from edge_agent.tracking.published import GAP_TOLERANCE_S, published_tracks
from edge_agent.tracking.track import Track, TrackState

__all__ = ["Tracker", "TrackerParams", "TrackerStep", "params_from_settings"]


@dataclass(frozen=True)
class TrackerStep:
    """What one update changed: tracks to report, and lifecycle transitions."""

    tracks: List[Track]
    """What is published for this frame: confirmed tracks matched now, and tracks lost for
    at most predict_gap_s with their predicted box (`predicted` True). Nothing else."""
    born: List[Track]
    """Tracks confirmed for the first time in this frame."""
    ended: List[Track]
    """Published tracks that ended in this frame."""
    dropped_detections: int


def _inside_share(box: np.ndarray, frame_size_wh: Tuple[int, int]) -> float:
    """Share of a box's area inside the frame."""
    width, height = frame_size_wh
    area = max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)
    if area <= 0.0:
        return 0.0
    inside_w = max(min(box[2], width) - max(box[0], 0.0), 0.0)
    inside_h = max(min(box[3], height) - max(box[1], 0.0), 0.0)
    return float(inside_w * inside_h / area)


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
        t_s: float,
        boxes: np.ndarray,
        scores: np.ndarray,
        embeddings: Optional[np.ndarray] = None,
        frame_size_wh: Optional[Tuple[int, int]] = None,
    ) -> TrackerStep:
        """Advance to monotonic time `t_s` with this frame's detections (frame px, x1 y1 x2 y2).

        A frame older than the previous one is treated as taken at the previous time. With
        `frame_size_wh`, a lost track whose predicted box is mostly outside the frame is not
        reported (the person walked out; predicting them there only adds false boxes).
        """
        params = self.params
        clean = sanitize(boxes, scores, embeddings, params.min_box_px)
        self.dropped_detections += clean.dropped
        dt = 0.0 if self._last_ts is None else max(t_s - self._last_ts, 0.0)
        now = t_s if self._last_ts is None else max(t_s, self._last_ts)
        self._last_ts = now
        det_boxes, det_scores, det_emb = clean.boxes, clean.scores, clean.embeddings
        # All tracks are stacked once per frame: per-track numpy calls cost ~20 us each.
        x, p = self._predicted_state(dt)
        inputs = self._round_inputs(x, now, dt, det_emb is not None)
        high = np.flatnonzero(det_scores >= params.high_score)
        low = np.flatnonzero((det_scores >= params.low_score) & (det_scores < params.high_score))
        # Round 1: confident detections against every live track.
        cost = round_cost(
            inputs, det_boxes[high], None if det_emb is None else det_emb[high],
            params.iou_gate, params.lost_cost_per_s, params.appearance_gate,
            params.appearance_weight, params.reach_heights,
        )
        rows, cols = assign(cost, params.max_match_cost)
        used_high = np.zeros(len(high), dtype=bool)
        used_high[cols] = True
        cols = high[cols]
        # Round 2: weak detections against the confirmed tracks still unmatched, IoU only.
        matched = np.zeros(len(self._tracks), dtype=bool)
        matched[rows] = True
        candidates = np.flatnonzero(~matched & ~inputs.tentative)
        if len(candidates) and len(low):
            sub = RoundInputs(inputs.predicted[candidates], inputs.lost_s[candidates],
                              inputs.tentative[candidates], None)
            cost = round_cost(sub, det_boxes[low], None, params.low_iou_gate,
                              params.lost_cost_per_s)
            rows2, cols2 = assign(cost, params.max_match_cost)
            rows = np.concatenate([rows, candidates[rows2]])
            cols = np.concatenate([cols, low[cols2]])
            matched[candidates[rows2]] = True
        if len(rows):
            x[rows], p[rows] = kalman.update(x[rows], p[rows], kalman.box_to_z(det_boxes[cols]))
        for track, xi, pi in zip(self._tracks, x, p):
            track.x, track.p = xi, pi
        born: List[Track] = []
        self._apply(rows, cols, det_boxes, det_scores, det_emb, inputs.embeddings, now, born)
        ended = self._age(matched, now, frame_size_wh, inputs.predicted)
        self._spawn(high[~used_high], det_boxes, det_scores, det_emb, now, born)
        return TrackerStep(published_tracks(self._tracks, now, params.predict_gap_s), born,
                           ended, clean.dropped)

    def _predicted_state(self, dt: float) -> Tuple[np.ndarray, np.ndarray]:
        """Stacked state [T,8] and covariance [T,8,8] of every track, predicted by dt."""
        if not self._tracks:
            return np.zeros((0, kalman.STATE_DIM)), np.zeros((0, kalman.STATE_DIM,
                                                              kalman.STATE_DIM))
        x = np.stack([t.x for t in self._tracks])
        p = np.stack([t.p for t in self._tracks])
        if dt > 0.0:
            frozen = np.array([t.misses > 0 for t in self._tracks])
            x, p = kalman.predict(x, p, dt, frozen)
        return x, p

    def _round_inputs(self, x: np.ndarray, now: float, dt: float,
                      want_embeddings: bool) -> RoundInputs:
        tracks = self._tracks
        if not tracks:
            return RoundInputs(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=bool), None)
        predicted = kalman.z_to_box(x[:, :4])
        lost_s = np.maximum(now - np.array([t.last_ts for t in tracks]) - dt, 0.0)
        tentative = np.array([t.state == TrackState.TENTATIVE for t in tracks])
        emb = None
        if want_embeddings and any(t.embedding is not None for t in tracks):
            dim = next(len(t.embedding) for t in tracks if t.embedding is not None)
            emb = np.stack([t.embedding if t.embedding is not None else np.zeros(dim, np.float32)
                            for t in tracks])
        return RoundInputs(predicted, lost_s, tentative, emb)

    def _apply(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        boxes: np.ndarray,
        scores: np.ndarray,
        embeddings: Optional[np.ndarray],
        track_embeddings: Optional[np.ndarray],
        now: float,
        born: List[Track],
    ) -> None:
        """Lifecycle bookkeeping of matched tracks (their filter state is already updated)."""
        if len(rows) == 0:
            return
        mixed = None
        if embeddings is not None:
            # One vectorised EMA for all matched tracks (a per-track loop costs ~4 us each);
            # a track without an appearance yet (zero row) takes the new one as it is.
            new = embeddings[cols]
            old = new if track_embeddings is None else track_embeddings[rows]
            old = np.where(np.abs(old).sum(axis=1, keepdims=True) > 0.0, old, new)
            momentum = self.params.embedding_momentum
            mixed = momentum * old + (1.0 - momentum) * new
            mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-12)
            mixed = mixed.astype(np.float32)
        matched_boxes = boxes[cols]
        matched_scores = scores[cols].tolist()
        for i, row in enumerate(rows.tolist()):
            track = self._tracks[row]
            track.detected_box = matched_boxes[i]
            track.last_box = track.detected_box
            track.predicted = False
            track.misses = 0
            track.last_ts = now
            track.hits += 1
            track.score = matched_scores[i]
            if track.score > track.top_score:
                track.top_score = track.score
            if mixed is not None:
                track.embedding = mixed[i]
            if track.state == TrackState.LOST:
                track.state = TrackState.CONFIRMED
            elif track.state == TrackState.TENTATIVE and self._confirmable(track, now):
                self._confirm(track, now)
                born.append(track)

    def _confirmable(self, track: Track, now: float) -> bool:
        params = self.params
        if track.score >= params.confirm_score:
            return True
        if track.hits < params.min_hits:
            return False
        # min_hits = 1 asks for every track at once; otherwise the matches must span time.
        return params.min_hits <= 1 or now - track.first_ts >= params.confirm_s

    def _confirm(self, track: Track, now_s: float) -> None:
        track.state = TrackState.CONFIRMED
        reid_id = None
        if self.gallery is not None and track.embedding is not None:
            reid_id = self.gallery.claim(track.embedding, self.camera_id, now_s)
        if reid_id is None:
            reid_id = self.gallery.new_id() if self.gallery is not None else track.uid
        track.reid_id = reid_id

    def _age(self, matched: np.ndarray, now: float, frame_size_wh: Optional[Tuple[int, int]],
             predicted: np.ndarray) -> List[Track]:
        """Move unmatched tracks along the lifecycle; `predicted` are this frame's boxes."""
        params = self.params
        ended: List[Track] = []
        survivors: List[Track] = []
        for index, track in enumerate(self._tracks):
            if not matched[index]:
                track.misses += 1
                if track.state == TrackState.TENTATIVE:
                    if track.misses > params.tentative_max_misses:
                        track.state = TrackState.ENDED
                elif track.state in (TrackState.CONFIRMED, TrackState.LOST):
                    track.state = TrackState.LOST
                    if track.lost_s(now) > params.max_lost_s:
                        track.state = TrackState.ENDED
                        ended.append(track)
                        self._remember(track, now)
                    else:
                        box = predicted[index]  # unmatched: the prediction stands
                        in_gap = track.lost_s(now) <= params.predict_gap_s + GAP_TOLERANCE_S
                        track.predicted = in_gap and (
                            frame_size_wh is None or _inside_share(box, frame_size_wh)
                            >= params.min_inside_share)
                        if track.predicted:
                            track.last_box = box
            if track.state != TrackState.ENDED:
                survivors.append(track)
        self._tracks = survivors
        return ended

    def _remember(self, track: Track, now: float) -> None:
        if self.gallery is not None and track.embedding is not None:
            self.gallery.remember(track.reid_id, track.embedding, self.camera_id, now)

    def _spawn(
        self,
        fresh: np.ndarray,
        boxes: np.ndarray,
        scores: np.ndarray,
        embeddings: Optional[np.ndarray],
        now: float,
        born: List[Track],
    ) -> None:
        room = self.params.max_tracks - len(self._tracks)
        if len(fresh) > room:
            self.refused_tracks += len(fresh) - max(room, 0)
            fresh = fresh[: max(room, 0)]
        if len(fresh) == 0:
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
                first_ts=now,
                last_ts=now,
                score=float(scores[col]),
                top_score=float(scores[col]),
                last_box=boxes[col].copy(),
                detected_box=boxes[col].copy(),
            )
            if embeddings is not None:
                track.observe_embedding(embeddings[col], self.params.embedding_momentum)
            self._tracks.append(track)
            if self._confirmable(track, now):
                self._confirm(track, now)
                born.append(track)

    def end_all(self, now_s: float) -> List[Track]:
        """End every published track (agent stopping); returns them for 'end' events."""
        ended = [t for t in self._tracks if t.state in (TrackState.CONFIRMED, TrackState.LOST)]
        for track in ended:
            track.state = TrackState.ENDED
            self._remember(track, now_s)
        self._tracks = []
        return ended
