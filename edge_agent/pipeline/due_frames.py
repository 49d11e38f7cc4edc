"""Which frames a consumer thread takes next: the newest of every camera that is due.

Shared by the segmentation (preprocess) and tracking threads so both follow the same rules:
take only from cameras whose rate gate says they are due, never more than the engine's batch,
and when nothing is ready, block briefly on the camera due soonest instead of spinning.
"""

from __future__ import annotations

import threading
import time
from typing import List, Mapping, Optional

from typing_extensions import Protocol

from edge_agent.frames import Frame
from edge_agent.runtime.rate_gate import RateGate

_IDLE_WAIT_S = 0.05
_CLOSED_SLOT_PAUSE_S = 0.01


class FrameSlot(Protocol):
    """What a consumer needs from a camera's latest-frame slot (or its reader view)."""

    def take(self, timeout_s: float) -> Optional[Frame]:
        """Newest frame not yet taken, or None after timeout_s."""
        ...


class DueFrames:
    """Picks the next batch from the cameras' slots under one rate gate."""

    def __init__(self, slots: Mapping[str, FrameSlot], gate: RateGate, limit: int = 0) -> None:
        self._slots = dict(slots)
        self._gate = gate
        self._limit = limit if limit > 0 else len(self._slots)

    def next_batch(self, stop: threading.Event) -> List[Frame]:
        """Frames to process now (possibly none, after a short wait); marks them as run."""
        if not self._slots:
            stop.wait(_IDLE_WAIT_S)
            return []
        frames = self._ready_now() or self._wait_for_one(stop)
        now_s = time.monotonic()
        for frame in frames:
            self._gate.mark_run(frame.camera_id, now_s)
        return frames

    def _ready_now(self) -> List[Frame]:
        now_s = time.monotonic()
        frames: List[Frame] = []
        for camera_id, slot in self._slots.items():
            if len(frames) >= self._limit:
                break
            if self._gate.due(camera_id, now_s):
                frame = slot.take(0.0)
                if frame is not None:
                    frames.append(frame)
        return frames

    def _wait_for_one(self, stop: threading.Event) -> List[Frame]:
        now_s = time.monotonic()
        camera_id = min(self._slots, key=lambda cid: self._gate.wait_s(cid, now_s))
        wait_s = self._gate.wait_s(camera_id, now_s)
        if wait_s > 0:
            stop.wait(min(wait_s, _IDLE_WAIT_S))
            return []
        frame = self._slots[camera_id].take(_IDLE_WAIT_S)
        if frame is None:
            stop.wait(_CLOSED_SLOT_PAUSE_S)  # a closed slot answers at once: do not spin on it
            return []
        return [frame]
