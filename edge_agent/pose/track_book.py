"""Pose state of every tracked person: smoother, skeleton history, stable class.

The task runtime calls, per camera and pose batch:

1. `observe(...)` with the decoded poses and the tracks they belong to -> skeletons;
2. `due_windows(now)` -> the tracks to classify and their resampled windows (tracks with
   fewer than `min_frames` frames are not due: too short to say anything);
3. `apply_predictions(...)` with the classifier's results -> the pose changes to publish;
4. `prune(camera, live track ids)` whenever the tracker drops tracks.

Memory is bounded: at most `max_tracks` tracks hold state (the least recently observed one is
evicted and counted), each with a fixed-size ring buffer; `stats()` reports the bytes held.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from edge_agent.pose.bodypose3d import DecodedPoses
from edge_agent.pose.hysteresis import ClassHysteresis
from edge_agent.pose.normalise import SOURCE_POINTS, Window
from edge_agent.pose.one_euro import OneEuroParams
from edge_agent.pose.pose_events import PoseChange, pose_change
from edge_agent.pose.poseclass import PosePrediction
from edge_agent.pose.sequence import SkeletonSequence
from edge_agent.pose.skeleton import Skeleton, SkeletonSmoother, SmoothingParams
from edge_agent.settings.pose import OneEuroSettings, PoseSettings

TrackKey = Tuple[str, int]  # (camera id, track id)


@dataclass(frozen=True)
class PoseBookConfig:
    """The settings the book needs, resolved (see settings.pose for meanings)."""

    smoothing: SmoothingParams = SmoothingParams()
    focal_length_px: float = 800.79041
    normalisation: str = "tao_training"
    buffer_frames: int = 300
    max_gap_s: float = 2.0
    max_tracks: int = 64
    classifier_rate_hz: float = 30.0
    window_frames: int = 100
    min_frames: int = 30
    classify_interval_s: float = 1.0
    confirm_count: int = 2
    release_count: int = 3

    @classmethod
    def from_settings(cls, settings: PoseSettings) -> "PoseBookConfig":
        def params(s: OneEuroSettings) -> OneEuroParams:
            return OneEuroParams(s.min_cutoff_hz, s.beta, s.d_cutoff_hz)

        smoothing = settings.smoothing
        return cls(
            smoothing=SmoothingParams(
                keypoints=params(smoothing.keypoints),
                depth=params(smoothing.depth),
                root_depth=params(smoothing.root_depth),
                nominal_rate_hz=smoothing.nominal_rate_hz,
                enabled=smoothing.enabled,
            ),
            focal_length_px=settings.focal_length_px,
            normalisation=settings.normalisation,
            buffer_frames=settings.buffer_frames,
            max_gap_s=settings.max_gap_s,
            max_tracks=settings.max_tracks,
            classifier_rate_hz=settings.classifier_rate_hz,
            window_frames=settings.effective_window_frames(),
            min_frames=settings.min_frames,
            classify_interval_s=settings.classify_interval_s,
            confirm_count=settings.confirm_count,
            release_count=settings.release_count,
        )


@dataclass
class _TrackPose:
    smoother: SkeletonSmoother
    sequence: SkeletonSequence
    hysteresis: ClassHysteresis
    last_seen_s: float
    last_classified_s: float = float("-inf")
    skeleton: Optional[Skeleton] = None


@dataclass
class PoseBookStats:
    """Counters since start, plus the current size; `memory_bytes` is what buffers hold."""

    tracks: int = 0
    memory_bytes: int = 0
    memory_limit_bytes: int = 0
    skipped_nan: int = 0
    skipped_no_confidence: int = 0
    evicted: int = 0
    pruned: int = 0
    sequence_resets: int = 0
    classified: int = 0
    too_short: int = 0


class PoseTrackBook:
    """Per-track pose state for all cameras of the agent (one instance per agent)."""

    def __init__(self, config: PoseBookConfig) -> None:
        self.config = config
        self._tracks: Dict[TrackKey, _TrackPose] = {}
        self._stats = PoseBookStats()
        self._source = SOURCE_POINTS[config.normalisation]

    def _state(self, key: TrackKey, ts_s: float) -> _TrackPose:
        state = self._tracks.get(key)
        if state is None:
            if len(self._tracks) >= self.config.max_tracks:
                oldest = min(self._tracks, key=lambda k: self._tracks[k].last_seen_s)
                del self._tracks[oldest]
                self._stats.evicted += 1
            state = _TrackPose(
                smoother=SkeletonSmoother(self.config.smoothing),
                sequence=SkeletonSequence(self.config.buffer_frames),
                hysteresis=ClassHysteresis(self.config.confirm_count, self.config.release_count),
                last_seen_s=ts_s,
            )
            self._tracks[key] = state
        return state

    def observe(
        self,
        decoded: DecodedPoses,
        keys: Sequence[TrackKey],
        ts_s: Sequence[float],
        frame_sizes_px: Sequence[Tuple[int, int]],
    ) -> Dict[TrackKey, Skeleton]:
        """Smooth, lift and record row i of `decoded` for track keys[i] at ts_s[i].

        Invalid rows (NaN, no confident joint) are skipped and counted; the track's filters
        and history are left untouched by them.
        """
        self._stats.skipped_nan += decoded.skipped_nan
        self._stats.skipped_no_confidence += decoded.skipped_no_confidence
        result: Dict[TrackKey, Skeleton] = {}
        for i, key in enumerate(keys):
            if not decoded.valid[i]:
                continue
            state = self._state(key, ts_s[i])
            sequence = state.sequence
            if len(sequence) and ts_s[i] - sequence.last_ts_s > self.config.max_gap_s:
                sequence.reset()
                state.smoother = SkeletonSmoother(self.config.smoothing)
                self._stats.sequence_resets += 1
            skeleton = state.smoother.update(
                ts_s[i], decoded.keypoints_px[i], decoded.z_rel[i], decoded.confidence[i],
                frame_sizes_px[i], self.config.focal_length_px,
            )
            sequence.append(skeleton.ts_s, getattr(skeleton, self._source), skeleton.confidence)
            state.skeleton = skeleton
            state.last_seen_s = ts_s[i]
            result[key] = skeleton
        return result

    def due_windows(self, now_s: float) -> List[Tuple[TrackKey, Window]]:
        """Tracks whose classification interval has passed and that are long enough."""
        due: List[Tuple[TrackKey, Window]] = []
        for key, state in self._tracks.items():
            if now_s - state.last_classified_s < self.config.classify_interval_s:
                continue
            window = state.sequence.resampled(
                self.config.classifier_rate_hz, self.config.window_frames
            )
            if window is None or window[0].shape[0] < self.config.min_frames:
                self._stats.too_short += 1
                continue
            due.append((key, window))
        return due

    def apply_predictions(
        self, keys: Sequence[TrackKey], predictions: Sequence[PosePrediction], now_s: float
    ) -> List[PoseChange]:
        """Feed results through each track's hysteresis; return the stable-class changes."""
        changes: List[PoseChange] = []
        for key, prediction in zip(keys, predictions):
            state = self._tracks.get(key)
            if state is None:  # pruned while the classifier ran
                continue
            state.last_classified_s = now_s
            self._stats.classified += 1
            previous = state.hysteresis.stable
            current = state.hysteresis.update(prediction.label)
            change = pose_change(key[0], key[1], previous, current, prediction.probability, now_s)
            if change is not None:
                changes.append(change)
        return changes

    def stable_pose(self, key: TrackKey) -> Optional[str]:
        """The track's current stable class (None: unknown or no pose state)."""
        state = self._tracks.get(key)
        return state.hysteresis.stable if state is not None else None

    def skeleton(self, key: TrackKey) -> Optional[Skeleton]:
        """The track's latest skeleton, for rendering and keypoint messages."""
        state = self._tracks.get(key)
        return state.skeleton if state is not None else None

    def prune(self, camera_id: str, live_track_ids: Iterable[int]) -> int:
        """Drop the pose state of `camera_id`'s tracks that are not live; returns how many."""
        live = set(live_track_ids)
        gone = [k for k in self._tracks if k[0] == camera_id and k[1] not in live]
        for key in gone:
            del self._tracks[key]
        self._stats.pruned += len(gone)
        return len(gone)

    def cameras(self) -> Set[str]:
        """Cameras that have tracks with pose state."""
        return {key[0] for key in self._tracks}

    def stats(self) -> PoseBookStats:
        """A copy of the counters with the current track count and memory."""
        per_track = SkeletonSequence(self.config.buffer_frames).nbytes
        memory = int(sum(s.sequence.nbytes for s in self._tracks.values()))
        return replace(
            self._stats,
            tracks=len(self._tracks),
            memory_bytes=memory,
            memory_limit_bytes=int(per_track * self.config.max_tracks),
        )
