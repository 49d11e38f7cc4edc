"""One thread per camera: read frames into a LatestFrameSlot, keep the camera alive.

Capture runs apart from inference so a slow model never stalls decoding (live streams would
buffer and fall behind) and a dead camera never blocks the others. The worker owns the whole
reconnect policy, modelled on DeepStream's no-data timer and Frigate's watchdog: a failed
open, a read error or no frame for read_timeout_s closes the source and reopens it after a
jittered, capped backoff, forever; only a configuration error or the end of a file with
on_eof='stop' ends a camera.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable, Optional

import numpy as np
from typing_extensions import Literal, Protocol

from edge_agent.capture.backoff import Backoff
from edge_agent.capture.camera_stats import CameraState, CameraStats, RateMeter
from edge_agent.capture.latest_slot import LatestFrameSlot
from edge_agent.capture.source import FrameSource, create_source
from edge_agent.errors import ConfigError, InputNotFoundError
from edge_agent.frames import Frame
from edge_agent.runtime.worker import Worker
from edge_agent.settings import CameraSettings
from edge_agent.settings.camera_url import parse_camera_url

logger = logging.getLogger(__name__)

# Longest single read wait, so stall and stop checks run at least this often.
_POLL_S = 0.5
# A live frame up to this fraction of the max_fps interval early still counts as on time,
# so 30 fps cameras limited to 15 fps give 15 fps, not 10.
_EARLY_TOLERANCE = 0.25

SourceFactory = Callable[[CameraSettings], FrameSource]
_Outcome = Literal["rewind", "failed", "ended", "stopped"]


class Clock(Protocol):
    """Wall and monotonic time; the `time` module satisfies it."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...


class CameraWorker(Worker):
    """Captures one camera on a daemon thread named capture-<camera id> (supervised)."""

    def __init__(
        self,
        camera: CameraSettings,
        source_factory: SourceFactory = create_source,
        clock: Clock = time,
        rng: Optional[random.Random] = None,
        slot: Optional[LatestFrameSlot] = None,
    ) -> None:
        super().__init__(f"capture-{camera.id}")
        self._camera = camera
        self._factory = source_factory
        self._clock = clock
        self._rng = rng
        self._slot = slot if slot is not None else LatestFrameSlot()
        self._lock = threading.Lock()
        self._state: CameraState = "starting"
        self._seq = 0
        self._rate_limited = 0
        self._reconnects = 0
        self._last_error = ""
        self._last_frame_mono: Optional[float] = None
        self._next_due = 0.0  # monotonic time the next frame may be published (max_fps)
        self._rate = RateMeter()

    @property
    def camera(self) -> CameraSettings:
        """The settings this worker captures with."""
        return self._camera

    @property
    def camera_id(self) -> str:
        """The camera this worker captures."""
        return self._camera.id

    @property
    def slot(self) -> LatestFrameSlot:
        """Where inference takes the newest frame from."""
        return self._slot

    def stop(self, timeout_s: float = 2.0) -> bool:
        """Ask the thread to end, wait up to timeout_s; True when it has ended.

        A read blocked inside OpenCV cannot be interrupted safely (closing a VideoCapture
        from another thread races its read), so after the timeout the daemon thread is left
        to close its source as soon as that read returns.
        """
        ended = super().stop(timeout_s)
        with self._lock:
            self._state = "stopped"
        self._slot.close()
        return ended

    def stats(self) -> CameraStats:
        """A consistent snapshot of this camera's counters."""
        now = self._clock.monotonic()
        with self._lock:
            age = None if self._last_frame_mono is None else now - self._last_frame_mono
            return CameraStats(
                camera_id=self._camera.id,
                state=self._state,
                frames_captured=self._seq,
                frames_dropped=self._slot.dropped,
                frames_rate_limited=self._rate_limited,
                reconnects=self._reconnects,
                last_error=self._last_error,
                fps=self._rate.rate_hz(now),
                last_frame_age_s=age,
            )

    def run(self, stop: threading.Event) -> None:
        """Open, pump, reconnect until stopped; returns (completed) when the camera ends."""
        camera = self._camera
        try:
            is_file = parse_camera_url(camera.url, camera.backend).is_file
            backoff = Backoff(camera.reconnect_initial_s, camera.reconnect_max_s, self._rng)
            while not self._stop.is_set():
                outcome = self._session(is_file, backoff)
                if outcome in ("ended", "stopped"):
                    self.complete()
                    return
                if outcome == "failed":
                    self._set_state("reconnecting")
                    if self._stop.wait(backoff.next_delay_s()):
                        return
                    with self._lock:
                        self._reconnects += 1
        except ConfigError as exc:
            logger.error("camera %s: %s (%s)", camera.id, exc.problem, exc.fix)
            self._fail(exc.problem)
            self._set_state("ended")
            self.complete()

    def _session(self, is_file: bool, backoff: Backoff) -> _Outcome:
        """Open one source, pump it until it ends or fails, always close it."""
        source = self._factory(self._camera)
        try:
            source.open()
            return self._pump(source, is_file, backoff)
        except InputNotFoundError as exc:
            self._fail(exc.problem)
            return "failed"
        except ConfigError:
            raise
        except Exception as exc:
            # A bug or an odd decoder must not kill the camera: log, back off and reopen.
            logger.exception("camera %s: unexpected capture error", self._camera.id)
            self._fail(f"unexpected {type(exc).__name__}: {exc}")
            return "failed"
        finally:
            source.close()

    def _pump(self, source: FrameSource, is_file: bool, backoff: Backoff) -> _Outcome:
        camera = self._camera
        interval_s = 1.0 / camera.max_fps if camera.max_fps > 0 else 0.0
        early_s = interval_s * _EARLY_TOLERANCE
        read_wait_s = min(_POLL_S, camera.read_timeout_s)
        last_read_frame = self._clock.monotonic()
        frames_this_open = 0
        while not self._stop.is_set():
            # Files are paced by waiting; live streams are read at full speed (below).
            if (
                is_file
                and interval_s
                and self._stop.wait(max(0.0, self._next_due - self._clock.monotonic()))
            ):
                break
            result = source.read(read_wait_s)
            now = self._clock.monotonic()
            if result.status == "frame" and result.pixels is not None:
                frames_this_open += 1
                last_read_frame = now
                backoff.reset()
                if interval_s and not is_file and now < self._next_due - early_s:
                    with self._lock:
                        self._rate_limited += 1
                    continue
                # Keep the schedule when on time; after a gap start a new one from now.
                self._next_due = max(self._next_due + interval_s, now + interval_s - early_s)
                self._publish(result.pixels, now)
            elif result.status == "timeout":
                if now - last_read_frame >= camera.read_timeout_s:
                    self._fail(f"no frame for {camera.read_timeout_s:g} s from {source.describe()}")
                    return "failed"
            elif result.status == "end" and is_file:
                if frames_this_open == 0:
                    self._fail(f"{source.describe()} has no frames")
                    return "failed"
                if camera.on_eof == "loop":
                    return "rewind"
                logger.info("camera %s: end of %s", camera.id, source.describe())
                self._set_state("ended")
                return "ended"
            else:
                self._fail(result.message or f"{source.describe()} ended (stream lost)")
                return "failed"
        return "stopped"

    def _publish(self, pixels: np.ndarray, now: float) -> None:
        """Wrap pixels in a Frame and hand it to the slot (dropping any untaken one)."""
        frame = Frame(
            camera_id=self._camera.id,
            seq=self._seq + 1,  # only this thread writes _seq
            capture_ts=self._clock.time(),
            monotonic_ts=now,
            pixels=pixels,
        )
        self._slot.put(frame)
        self.beat()
        with self._lock:
            self._seq = frame.seq
            self._last_frame_mono = now
            self._rate.add(now)
            if self._state not in ("stopped", "ended"):
                self._state = "streaming"

    def _fail(self, message: str) -> None:
        # extra= becomes the journal field CAMERA= (service/journal.py)
        logger.warning("camera %s: %s", self._camera.id, message, extra={"camera": self._camera.id})
        with self._lock:
            self._last_error = message

    def _set_state(self, state: CameraState) -> None:
        with self._lock:
            if self._state != "stopped":
                self._state = state
