"""Pose as a crop task: BodyPose3DNet on the tracks feed, then the per-track classifier.

Upstream is the `tracks` feed (pipeline/track_feed.py): each input is a frame plus its
confirmed people. One run takes the people of several frames (cameras) as one batch of crops
(pose.bodypose3d.build_pose_batch: the reference crop geometry), split at the engine's max
batch. The pose book (per-track smoothing, lifting, ring buffers, hysteresis) sits between
the two models, so both model calls and every book update happen in `run`, on the executor's
run thread: the book has exactly one writer, and `prepare` (another thread) only builds
crops. Ended tracks are pruned from the book with each camera's live track ids.

The result per input is a `PoseFrameResult`: the people of that frame with their skeleton
and stable class, plus the class changes the classifier produced for that camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from edge_agent.pipeline.pose_models import PoseEngine
from edge_agent.pipeline.track_feed import TRACKS_FEED, FrameTracks, TrackedPerson
from edge_agent.pose.bodypose3d import POSE25D_NAME, PoseBatch, build_pose_batch, decode_pose25d
from edge_agent.pose.pose_events import PoseChange
from edge_agent.pose.skeleton import Skeleton
from edge_agent.pose.steps import classify_due
from edge_agent.pose.track_book import TrackKey
from edge_agent.runtime.task import WorkItem

POSE_TASK = "pose"
# Frames per pose run: all due cameras' people in one batch (crops split at the engine's max).
POSE_FRAMES_PER_BATCH = 8


@dataclass(frozen=True)
class PosePerson:
    """One tracked person of a frame: where, which track, the skeleton (None when the crop or
    pose was unusable) and the track's stable class (None = not known yet)."""

    person: TrackedPerson
    skeleton: Optional[Skeleton]
    pose: Optional[str]


@dataclass(frozen=True)
class PoseFrameResult:
    """Pose output for one frame."""

    camera_id: str
    frame_width: int
    frame_height: int
    people: Tuple[PosePerson, ...]
    changes: Tuple[PoseChange, ...] = field(default_factory=tuple)


class PoseTask:
    """BodyPose3DNet + PoseClassificationNet on confirmed tracks."""

    upstream = TRACKS_FEED
    name = POSE_TASK

    def __init__(self, engine: PoseEngine, model: str, cameras: Iterable[str],
                 resource: str = "cpu") -> None:
        self._engine = engine
        self.model = model
        self.standin = engine.standin
        self.cameras: FrozenSet[str] = frozenset(cameras)
        self.resource = resource
        self.max_batch = POSE_FRAMES_PER_BATCH
        self._undelivered: Dict[str, List[PoseChange]] = {}

    @property
    def engine(self) -> PoseEngine:
        """The pose models and book (the sink reads labels and stats)."""
        return self._engine

    def prepare(self, items: Sequence[WorkItem]) -> Tuple[PoseBatch, Sequence[WorkItem]]:
        pairs = [(item.frame.pixels, _tracks(item).boxes_xyxy()) for item in items]
        return build_pose_batch(pairs, self._engine.settings.pad_px), items

    def run(self, data: Any) -> Tuple[Dict[Tuple[int, int], Skeleton], List[PoseChange]]:
        batch, items = data
        # The book runs on frame (monotonic) time, like the tracker.
        now_s = max(item.frame.monotonic_ts for item in items)
        book = self._engine.book
        for gone in book.cameras() - self.cameras:  # removed by a reload (book outlives tasks)
            book.prune(gone, ())
        return run_pose(self._engine, batch, items, now_s)

    def decode(self, items: Sequence[WorkItem], raw: Any) -> List[PoseFrameResult]:
        skeletons, changes = raw
        book = self._engine.book
        # The classifier looks at every due track, of any camera; a change of a camera not in
        # this batch waits for that camera's next result (decode runs on the run thread only).
        by_camera = self._undelivered
        for change in changes:
            by_camera.setdefault(change.camera_id, []).append(change)
        for cid in [c for c in by_camera if c not in self.cameras]:
            del by_camera[cid]
        last_of_camera = {item.frame.camera_id: i for i, item in enumerate(items)}
        results = []
        for index, item in enumerate(items):
            tracks = _tracks(item)
            cid = item.frame.camera_id
            people = tuple(
                PosePerson(person, skeletons.get((index, box_index)),
                           book.stable_pose((cid, person.track_id)))
                for box_index, person in enumerate(tracks.people))
            mine = by_camera.pop(cid, []) if last_of_camera[cid] == index else []
            width, height = item.frame.size_wh
            results.append(PoseFrameResult(cid, width, height, people, tuple(mine)))
        return results

    def backend_label(self) -> str:
        return type(self._engine.estimator).__name__


def _tracks(item: WorkItem) -> FrameTracks:
    upstream = item.upstream
    if not isinstance(upstream, FrameTracks):
        raise TypeError(f"pose input for camera {item.frame.camera_id} carries "
                        f"{type(upstream).__name__}, not the tracks feed's FrameTracks")
    return upstream


def run_pose(engine: PoseEngine, batch: PoseBatch, items: Sequence[WorkItem],
             now_s: float) -> Tuple[Dict[Tuple[int, int], Skeleton], List[PoseChange]]:
    """Both model calls of one batch with the book updates between them (run thread only).

    Returns skeletons by (item index, person index) and the classifier's class changes."""
    book = engine.book
    for item in items:
        book.prune(item.frame.camera_id, _tracks(item).live_track_ids)
    skeletons: Dict[Tuple[int, int], Skeleton] = {}
    if batch.size:
        step = engine.estimator_max_batch
        raw = np.concatenate([engine.estimator.run(batch.feeds(s, s + step))[POSE25D_NAME]
                              for s in range(0, batch.size, step)])
        decoded = decode_pose25d(raw, batch.rects_px)
        keys: List[TrackKey] = []
        stamps: List[float] = []
        sizes: List[Tuple[int, int]] = []
        for item_index, box_index in batch.owners:
            item = items[item_index]
            keys.append((item.frame.camera_id, _tracks(item).people[box_index].track_id))
            stamps.append(item.frame.monotonic_ts)
            sizes.append(item.frame.size_wh)
        observed = book.observe(decoded, keys, stamps, sizes)
        for owner, key in zip(batch.owners, keys):
            if key in observed:
                skeletons[owner] = observed[key]
    changes: List[PoseChange] = []
    if engine.classifier is not None:
        cfg = engine.settings
        changes = classify_due(engine.classifier, book, engine.labels, now_s,
                               cfg.normalisation, cfg.graph_layout, cfg.training_focal_length,
                               cfg.threshold, engine.classifier_max_batch)
    return skeletons, changes
