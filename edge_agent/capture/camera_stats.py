"""What a camera worker reports: a frozen snapshot plus the rate meter behind its fps.

Snapshots are values, so the status line, the watchdog and MQTT health events can read them
from any thread without locks and without seeing a half-updated camera.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Optional

from typing_extensions import Literal

CameraState = Literal["starting", "streaming", "reconnecting", "ended", "stopped"]


@dataclass(frozen=True)
class CameraStats:
    """One camera at one moment.

    state: 'starting' (first open), 'streaming' (frames flow), 'reconnecting' (waiting to
    reopen after a failure or stall), 'ended' (file finished with on_eof='stop', or a
    configuration error), 'stopped' (stop() was called).
    frames_captured counts frames handed to the slot; frames_dropped those overwritten there
    before inference took them; frames_rate_limited live frames read but skipped to honour
    max_fps; reconnects counts reopen attempts after a failure. fps is measured over the last
    few seconds; last_frame_age_s is None before the first frame.
    """

    camera_id: str
    state: CameraState
    frames_captured: int
    frames_dropped: int
    frames_rate_limited: int
    reconnects: int
    last_error: str
    fps: float
    last_frame_age_s: Optional[float]


class RateMeter:
    """Events per second over a trailing window, in bounded memory. Not thread-safe."""

    def __init__(self, window_s: float = 5.0, max_samples: int = 512) -> None:
        self._window_s = window_s
        self._samples: Deque[float] = deque(maxlen=max_samples)

    def add(self, monotonic_s: float) -> None:
        """Record one event at `monotonic_s`."""
        self._samples.append(monotonic_s)

    def rate_hz(self, now_s: float) -> float:
        """Events per second in the window ending now; decays to 0 when events stop."""
        samples = self._samples
        while samples and samples[0] < now_s - self._window_s:
            samples.popleft()
        if len(samples) < 2:
            return 0.0
        span_s = now_s - samples[0]
        return (len(samples) - 1) / span_s if span_s > 0 else 0.0
