"""The one hand-off between a camera thread and its consumers: newest frame wins.

A queue would let inference fall behind live video and grow memory; a single slot keeps
latency at one frame and memory at one frame per camera. Several consumers (segmentation and
people tracking) read the same slot, each through its own named reader: every reader gets the
newest frame it has not taken yet, so a slow reader never starves a fast one and no frame is
copied or queued. A frame replaced before *any* reader took it is counted in `dropped`, so the
cost of slow consumers is visible, never hidden; `dropped_by(reader)` tells them apart.
"""

from __future__ import annotations

import threading
from typing import Dict, Optional

from edge_agent.frames import Frame

DEFAULT_READER = "main"


class LatestFrameSlot:
    """Thread-safe holder of at most one frame; put() overwrites, take() reads once per reader."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Optional[Frame] = None
        self._version = 0  # number of frames put so far
        self._taken_any = False  # the current frame went to at least one reader
        self._taken: Dict[str, int] = {}  # reader -> version it took last
        self._missed: Dict[str, int] = {}  # reader -> frames replaced before it took them
        self._dropped = 0
        self._closed = False

    @property
    def dropped(self) -> int:
        """Frames overwritten (or put after close) before any reader took them."""
        with self._cond:
            return self._dropped

    def dropped_by(self, reader: str) -> int:
        """Frames `reader` never saw because a newer one replaced them first."""
        with self._cond:
            return self._missed.get(reader, 0)

    @property
    def closed(self) -> bool:
        """True after close(); take() then returns what is left, then None at once."""
        with self._cond:
            return self._closed

    def reader(self, name: str) -> SlotReader:
        """A view whose take() reads this slot as consumer `name`."""
        with self._cond:
            self._taken.setdefault(name, 0)
        return SlotReader(self, name)

    def put(self, frame: Frame) -> None:
        """Store `frame`, dropping (and counting) an untaken older one; wakes every taker."""
        with self._cond:
            if self._closed:
                self._dropped += 1
                return
            if self._frame is not None:
                if not self._taken_any:
                    self._dropped += 1
                for name, version in self._taken.items():
                    if version != self._version:
                        self._missed[name] = self._missed.get(name, 0) + 1
            self._frame = frame
            self._version += 1
            self._taken_any = False
            self._cond.notify_all()

    def take(self, timeout_s: float, reader: str = DEFAULT_READER) -> Optional[Frame]:
        """Newest frame `reader` has not taken, waiting up to timeout_s; None on timeout/close."""
        with self._cond:
            self._taken.setdefault(reader, 0)

            def ready() -> bool:
                return self._frame is not None and self._taken[reader] != self._version

            self._cond.wait_for(lambda: ready() or self._closed, timeout_s)
            if not ready():
                return None
            self._taken[reader] = self._version
            self._taken_any = True
            return self._frame

    def close(self) -> None:
        """Wake every waiting take(); later put() calls are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class SlotReader:
    """One consumer's view of a LatestFrameSlot (what the inference threads take from)."""

    def __init__(self, slot: LatestFrameSlot, name: str) -> None:
        self._slot = slot
        self.name = name

    def take(self, timeout_s: float) -> Optional[Frame]:
        """Newest frame this reader has not taken yet, or None after timeout_s."""
        return self._slot.take(timeout_s, self.name)
