"""The pipeline watchdog: ping systemd only while every open camera's frames are processed.

A live process is not a working appliance: a decoder stuck inside a blocking read, a wedged
inference thread or an event thread that stopped draining all leave the process running and
the cameras dark. So WATCHDOG=1 is sent only while each camera that is open (starting or
streaming) has had a frame *processed* recently; when one stalls the pings stop and systemd
restarts the agent once WatchdogSec passes (reliability.md §3b, Frigate's and DeepStream's
no-frame rules). A camera whose source is down and being retried ('reconnecting') does not
hold the watchdog back: restarting the agent cannot bring a camera back, the capture
backoff already retries it, and the status line reports it down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import List, Optional, Sequence

from edge_agent.service.notify import Notifier

logger = logging.getLogger(__name__)

# States in which a camera is expected to deliver processed frames.
_EXPECTING_FRAMES = ("starting", "streaming")
# Margin over a camera's read timeout, so the capture layer's own reconnect acts first.
_READ_TIMEOUT_MARGIN_S = 2.0
_PERIODS_BEFORE_STALL = 3.0


@dataclass(frozen=True)
class CameraProgress:
    """One camera as the watchdog sees it.

    last_processed_s: monotonic time its newest frame left inference (None = never);
    stall_after_s: how long without a processed frame counts as stalled for this camera.
    """

    camera_id: str
    state: str
    last_processed_s: Optional[float]
    stall_after_s: float


def stall_threshold_s(stall_after_s: float, read_timeout_s: float, rate_hz: float) -> float:
    """Effective stall time of one camera: never shorter than capture's own recovery.

    A source that stops sending is reopened by the camera worker after read_timeout_s; the
    watchdog must not fire before that, nor before a slow inference rate (rate_hz) could
    have produced three results.
    """
    period_s = _PERIODS_BEFORE_STALL / rate_hz if rate_hz > 0 else 0.0
    return max(stall_after_s, read_timeout_s + _READ_TIMEOUT_MARGIN_S, period_s)


class StallDetector:
    """Decides which cameras are stalled; pure, so its rules are tested without threads.

    `epoch_s` is when the current pipeline started (start-up or the last reload): a camera
    that has processed nothing yet is measured from then.
    """

    def __init__(self, epoch_s: float) -> None:
        self._epoch_s = epoch_s

    def restart_epoch(self, epoch_s: float) -> None:
        """A new pipeline (after reload) gets a fresh grace period."""
        self._epoch_s = epoch_s

    def stalled(self, cameras: Sequence[CameraProgress], now_s: float) -> List[str]:
        """Ids of cameras that should be delivering processed frames and are not."""
        stalled = []
        for camera in cameras:
            if camera.state not in _EXPECTING_FRAMES:
                continue
            last = camera.last_processed_s
            reference = self._epoch_s if last is None else max(last, self._epoch_s)
            if now_s - reference > camera.stall_after_s:
                stalled.append(camera.camera_id)
        return stalled


class Watchdog:
    """Sends WATCHDOG=1 every interval_s while no camera is stalled.

    tick() is called often (the runner's 0.1 s loop); it pings at most once per interval,
    which is half of WATCHDOG_USEC as sd_watchdog_enabled(3) recommends.
    """

    def __init__(self, notifier: Notifier, interval_s: float, detector: StallDetector) -> None:
        self._notifier = notifier
        self._interval_s = interval_s
        self._detector = detector
        self._last_ping_s: Optional[float] = None
        self._stalled: List[str] = []
        self._unhealthy = False
        self.pings = 0

    @property
    def stalled(self) -> List[str]:
        """Cameras found stalled at the last tick."""
        return list(self._stalled)

    def restart_epoch(self, epoch_s: float) -> None:
        """Give a freshly (re)built pipeline its grace period."""
        self._detector.restart_epoch(epoch_s)

    def tick(self, cameras: Sequence[CameraProgress], now_s: float, healthy: bool = True) -> bool:
        """Ping if healthy and due; True when a ping was sent.

        `healthy` false (a worker thread the supervisor gave up on) stops the pings whatever
        the cameras say: a process missing one of its threads is not a working appliance.
        """
        if not healthy:
            if not self._unhealthy:
                logger.error("a worker thread was given up on; systemd watchdog pings stopped, "
                             "the service will be restarted")
            self._unhealthy = True
            return False
        self._unhealthy = False
        stalled = self._detector.stalled(cameras, now_s)
        if stalled != self._stalled:
            if stalled:
                logger.error(
                    "pipeline stalled: no frame processed from camera(s) %s; systemd "
                    "watchdog pings stopped, the service will be restarted if it persists",
                    ", ".join(stalled),
                )
            else:
                logger.info("pipeline recovered: frames processed on every open camera")
            self._stalled = stalled
        if stalled:
            return False
        if self._last_ping_s is not None and now_s - self._last_ping_s < self._interval_s:
            return False
        if self._notifier.send("WATCHDOG=1"):
            self._last_ping_s = now_s
            self.pings += 1
            return True
        return False
