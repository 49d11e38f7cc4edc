"""Opt-in local snapshots: each camera's latest frame and what the agent saw on it.

`edge-agent snapshot` runs in another process and has no frames of its own, so when
`models.snapshots.enabled` the agent writes, per camera and at most every `interval_s`:

* `<dir>/<camera>.jpg` — the frame the tracker just stepped on (or the segmented frame when
  tracking is off);
* `<dir>/<camera>.mask.png` — the newest person mask of that camera (0/255, network size);
* `<dir>/<camera>.json` — boxes, track ids, zones and, where pose ran, skeletons and pose
  classes of that frame's tracks.

Why files and not MQTT: the image must never leave the device unless someone chooses to copy
it, and the overlay must belong to the same frame as the picture (messages on the broker are
of whatever frame each model ran on last). Skeletons come from the pose task, which runs
after the tracker: the newest skeleton per track is drawn, at most one pose interval old.
Each file is written to a temporary name and renamed, so a reader never sees half a file.
Runs on the event worker (not thread-safe); a failed write is logged and counted.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from edge_agent.frames import Frame
from edge_agent.pipeline.pose_task import PoseFrameResult
from edge_agent.pipeline.track_feed import FrameTracks
from edge_agent.runtime.task import TaskResult
from edge_agent.settings.models import SnapshotSettings

logger = logging.getLogger(__name__)

_PERSON_CLASS = 1  # PeopleSemSegNet's person class (models.semseg.PERSON_CLASS)
SNAPSHOT_FORMAT = 1


class SnapshotWriter:
    """Keeps the newest mask and skeletons per camera, writes the files when due."""

    def __init__(self, settings: SnapshotSettings, with_tracks: bool = True) -> None:
        self._settings = settings
        self._with_tracks = with_tracks  # False: segmented frames drive the snapshots
        self._dir = Path(settings.dir)
        self._last_write_s: Dict[str, float] = {}
        self._skeletons: Dict[Tuple[str, int], Dict[str, Any]] = {}
        self._masks: Dict[str, np.ndarray] = {}
        self.written = 0
        self.failures = 0

    def observe_masks(self, results: Sequence[TaskResult]) -> None:
        """Newest person mask per camera (with tracking off, segmented frames are snapshotted)."""
        for result in results:
            class_map = getattr(result.value, "class_map", None)
            if class_map is None:
                continue
            cid = result.frame.camera_id
            # Kept in memory, written with the next snapshot: at most one write per interval
            # (flash storage on the boards wears with every write).
            self._masks[cid] = class_map
            if not self._with_tracks and self._due(cid):
                self._guarded(self._write, result.frame, FrameTracks(cid, (), frozenset()))

    def observe_poses(self, results: Sequence[TaskResult]) -> None:
        """Newest skeleton and class per track (drawn on the next snapshot of its camera)."""
        for result in results:
            value = result.value
            if not isinstance(value, PoseFrameResult):
                continue
            live = {p.person.track_id for p in value.people}
            for key in [k for k in self._skeletons if k[0] == value.camera_id
                        and k[1] not in live]:
                del self._skeletons[key]
            for p in value.people:
                entry: Dict[str, Any] = {"pose": p.pose}
                if p.skeleton is not None:
                    points = np.round(p.skeleton.keypoints_px.astype(np.float64), 1)
                    entry["keypoints"] = [[float(x), float(y), round(float(c), 2)] for (x, y), c
                                          in zip(points, p.skeleton.confidence)]
                self._skeletons[(value.camera_id, p.person.track_id)] = entry

    def observe_tracks(self, results: Sequence[TaskResult]) -> None:
        """Write the frame and its tracks when the camera's snapshot is due."""
        for result in results:
            tracks = result.value
            if isinstance(tracks, FrameTracks) and self._due(tracks.camera_id):
                self._guarded(self._write, result.frame, tracks)

    def _due(self, camera_id: str) -> bool:
        now_s = time.monotonic()
        if now_s - self._last_write_s.get(camera_id, float("-inf")) < self._settings.interval_s:
            return False
        self._last_write_s[camera_id] = now_s
        return True

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        try:
            action(*args)
        except OSError as err:
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                logger.warning("could not write a snapshot in %s (%s); %d failures so far",
                               self._dir, err, self.failures)

    def _write(self, frame: Frame, tracks: FrameTracks) -> None:
        cid = frame.camera_id
        ok, jpeg = cv2.imencode(".jpg", frame.pixels,
                                [int(cv2.IMWRITE_JPEG_QUALITY), self._settings.jpeg_quality])
        if not ok:
            raise OSError("JPEG encoding failed")
        people: List[Dict[str, Any]] = []
        for person in tracks.people:
            entry: Dict[str, Any] = {"track_id": person.track_id, "id": person.uid,
                                     "box": [round(v, 1) for v in person.box_xyxy],
                                     "zones": list(person.zones)}
            entry.update(self._skeletons.get((cid, person.track_id), {}))
            people.append(entry)
        width, height = frame.size_wh
        doc = {"format": SNAPSHOT_FORMAT, "camera_id": cid, "frame_seq": frame.seq,
               "capture_ts": frame.capture_ts, "width": width, "height": height,
               "people": people}
        class_map = self._masks.pop(cid, None)
        if class_map is not None:
            self._write_png(cid, np.where(np.asarray(class_map) == _PERSON_CLASS, 255, 0)
                            .astype(np.uint8))
        self._atomic(f"{cid}.jpg", jpeg.tobytes())
        self._atomic(f"{cid}.json", json.dumps(doc, separators=(",", ":")).encode("utf-8"))
        self.written += 1

    def _write_png(self, cid: str, mask: np.ndarray) -> None:
        ok, png = cv2.imencode(".png", mask)
        if not ok:
            raise OSError("PNG encoding failed")
        self._atomic(f"{cid}.mask.png", png.tobytes())

    def _atomic(self, name: str, data: bytes) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        final = self._dir / name
        temporary = final.with_name(f".{name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(final)
