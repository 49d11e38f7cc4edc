"""TelemetryReporter: a thread that publishes the device's health every N seconds.

Why these figures: they are what an operator of a fleet asks first (is every camera
delivering, how fast is inference, is the outbox backing up, is the process growing) and
what Frigate's stats topic taught users to expect (docs/mqtt-anchors.md b.7). RSS comes from
/proc/self/status and CPU from os.times(), so no extra dependency is needed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from edge_agent.capture.camera_stats import CameraStats
from edge_agent.device.telemetry import DeviceTelemetry
from edge_agent.events.health_payloads import DeviceHealthTelemetry, ReloadTelemetry, device_health
from edge_agent.events.payloads import to_json_bytes
from edge_agent.events.plan_payloads import PlanPayload
from edge_agent.events.publisher import OutgoingMessage, Publisher
from edge_agent.events.state_payloads import (
    CameraTelemetry,
    LatencyTelemetry,
    OutboxTelemetry,
    ProcessTelemetry,
    TelemetryPayload,
    WorkerTelemetry,
)
from edge_agent.events.topics import Topics
from edge_agent.runtime.stage_timings import LatencySummary
from edge_agent.runtime.worker import Worker, WorkerHealth
from edge_agent.transport.outbox_records import OutboxCounters

logger = logging.getLogger(__name__)


def rss_bytes(status_path: Path = Path("/proc/self/status")) -> int:
    """Resident set size from the kernel (VmRSS, in kB there); 0 where unavailable."""
    try:
        for line in status_path.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class CpuMeter:
    """CPU percent of one core between two calls, from os.times()."""

    def __init__(self) -> None:
        self._last = self._sample()

    @staticmethod
    def _sample() -> Tuple[float, float]:
        times = os.times()
        return (times.user + times.system, time.monotonic())

    def percent(self) -> float:
        """Since the previous call (or construction)."""
        cpu_s, wall_s = self._sample()
        last_cpu_s, last_wall_s = self._last
        self._last = (cpu_s, wall_s)
        span_s = wall_s - last_wall_s
        return max(0.0, 100.0 * (cpu_s - last_cpu_s) / span_s) if span_s > 0 else 0.0


class TelemetryReporter(Worker):
    """Collects figures from the given callables and publishes them periodically (supervised)."""

    def __init__(
        self,
        publisher: Publisher,
        topics: Topics,
        device_id: str,
        version: str,
        interval_s: float,
        cameras: Callable[[], List[CameraStats]],
        latency: Callable[[], Dict[str, LatencySummary]],
        outbox: Callable[[], OutboxCounters],
        session: Callable[[], int],
        device: Optional[DeviceTelemetry] = None,
        last_reload: Optional[Callable[[], Optional[ReloadTelemetry]]] = None,
        backends: Optional[Callable[[], Dict[str, str]]] = None,
        workers: Optional[Callable[[], Sequence[WorkerHealth]]] = None,
        plan: Optional[Callable[[], PlanPayload]] = None,
        dla_layers: Optional[Callable[[], Dict[str, int]]] = None,
    ) -> None:
        """``device``: power/thermal readings (probed in start(), only when telemetry runs);
        ``last_reload``: the latest SIGHUP outcome, so a refused reload shows up here;
        ``backends``: model name -> backend serving it (CPU while a TensorRT engine builds);
        ``workers``: supervised threads' health."""
        super().__init__("telemetry")
        self._publisher = publisher
        self._topics = topics
        self._device_id = device_id
        self._version = version
        self._interval_s = interval_s
        self._cameras = cameras
        self._latency = latency
        self._outbox = outbox
        self._session = session
        self._device = device
        self._last_reload = last_reload
        self._backends = backends
        self._workers = workers
        self._plan = plan
        self._dla_layers = dla_layers
        self._device_failed = False
        self._started_s = time.monotonic()
        self._cpu = CpuMeter()

    def build(self) -> TelemetryPayload:
        """One telemetry document, now."""
        outbox = self._outbox()
        return TelemetryPayload(
            device_id=self._device_id,
            ts=time.time(),
            version=self._version,
            session=self._session(),
            cameras={
                cam.camera_id: CameraTelemetry(
                    state=cam.state,
                    fps=cam.fps,
                    frames_dropped=cam.frames_dropped,
                    reconnects=cam.reconnects,
                )
                for cam in self._cameras()
            },
            latency={
                name: LatencyTelemetry(p50_ms=s.p50_ms, p95_ms=s.p95_ms, count=s.count)
                for name, s in self._latency().items()
            },
            outbox=OutboxTelemetry(
                depth=outbox.depth,
                bytes=outbox.bytes,
                oldest_age_s=outbox.oldest_age_s,
                dropped=outbox.dropped,
                refused=outbox.refused,
                expired=outbox.expired,
                rejected=outbox.rejected,
            ),
            process=ProcessTelemetry(
                rss_bytes=rss_bytes(),
                cpu_percent=self._cpu.percent(),
                uptime_s=time.monotonic() - self._started_s,
            ),
            device=self._device_health(),
            last_reload=self._last_reload() if self._last_reload is not None else None,
            backends=self._backends() if self._backends is not None else {},
            workers={
                w.name: WorkerTelemetry(alive=w.alive, deaths=w.deaths, restarts=w.restarts,
                                        given_up=w.given_up, last_error=w.last_error)
                for w in (self._workers() if self._workers is not None else [])
            },
            plan=self._plan() if self._plan is not None else None,
            dla_layers=self._dla_layers() if self._dla_layers is not None else {},
        )

    def _device_health(self) -> Optional[DeviceHealthTelemetry]:
        """A reading of the device; never lets a sysfs surprise stop the telemetry."""
        if self._device is None:
            return None
        try:
            return device_health(self._device.read())
        except Exception:  # noqa: BLE001 - one bad reading must not cost the whole document
            if not self._device_failed:  # once: a broken reader would repeat every interval
                logger.exception("could not read the device telemetry")
            self._device_failed = True
            return None

    def publish_once(self) -> None:
        """Build and hand over one document (latest-only channel: dropped while offline)."""
        payload = to_json_bytes(self.build())
        self._publisher.publish(
            OutgoingMessage(self._topics.telemetry, payload, 1, False, "telemetry")
        )

    def start(self) -> None:
        """Start the thread (nothing happens with interval 0)."""
        if self._interval_s <= 0:
            return
        if self._device is not None:
            self._device.start()  # probes once; each missing reading warns once, here
        self._started_s = time.monotonic()
        super().start()

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval_s):
            try:
                self.publish_once()
            except Exception:  # noqa: BLE001 - telemetry must never stop the agent
                logger.exception("could not publish telemetry")
            self.beat()
