"""The one hand-off between a camera thread and inference: newest frame wins.

A queue would let inference fall behind live video and grow memory; a single slot keeps
latency at one frame and memory at one frame per camera. A frame replaced before anyone took
it is counted in `dropped`, so the cost of a slow consumer is visible, never hidden.
"""

from __future__ import annotations

import threading
from typing import Optional

from edge_agent.frames import Frame


class LatestFrameSlot:
    """Thread-safe holder of at most one frame; put() overwrites, take() empties."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Optional[Frame] = None
        self._dropped = 0
        self._closed = False

    @property
    def dropped(self) -> int:
        """Frames overwritten (or put after close) before anyone took them."""
        with self._cond:
            return self._dropped

    @property
    def closed(self) -> bool:
        """True after close(); take() then returns what is left, then None at once."""
        with self._cond:
            return self._closed

    def put(self, frame: Frame) -> None:
        """Store `frame`, dropping (and counting) an untaken older one; wakes one taker."""
        with self._cond:
            if self._closed:
                self._dropped += 1
                return
            if self._frame is not None:
                self._dropped += 1
            self._frame = frame
            self._cond.notify()

    def take(self, timeout_s: float) -> Optional[Frame]:
        """Newest frame not yet taken, waiting up to timeout_s; None on timeout or close."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self._closed, timeout_s)
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        """Wake every waiting take(); later put() calls are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
