"""What the agent reports about itself: camera progress for the watchdog, the status snapshot.

Pure functions over figures the agent collects, so the rules (every source task must
progress; the slowest configured rate sets the stall threshold) are readable on their own.
"""

from __future__ import annotations

import time
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

from edge_agent.capture.camera_worker import CameraWorker
from edge_agent.events.publisher import PublisherStats
from edge_agent.pipeline.status import CameraLine, StatusSnapshot
from edge_agent.runtime.stage_timings import LatencySummary
from edge_agent.service.watchdog import CameraProgress, stall_threshold_s


def slowest_progress(by_task: Mapping[str, Mapping[str, float]],
                     sources: Sequence[str]) -> Dict[str, float]:
    """Per camera, the oldest last-processed time over the source tasks: all must progress."""
    if not sources or any(name not in by_task for name in sources):
        return {}
    cameras = set.intersection(*(set(by_task[name]) for name in sources))
    return {cid: min(by_task[name][cid] for name in sources) for cid in cameras}


def slowest_rate_hz(rates_hz: Iterable[float]) -> float:
    """The lowest limited rate (0 = as fast as possible)."""
    limited = [rate for rate in rates_hz if rate > 0]
    return min(limited) if limited else 0.0


def camera_progress(workers: Sequence[CameraWorker], processed: Mapping[str, float],
                    stall_after_s: float, rate_hz: float) -> List[CameraProgress]:
    """Per camera: state, when its last frame was processed, when it counts as stalled."""
    return [
        CameraProgress(worker.camera_id, worker.stats().state, processed.get(worker.camera_id),
                       stall_threshold_s(stall_after_s, worker.camera.read_timeout_s, rate_hz))
        for worker in workers
    ]


def status_snapshot(started_s: float, workers: Sequence[CameraWorker], stats: PublisherStats,
                    summaries: Mapping[str, LatencySummary], engine_stages: Sequence[str],
                    events_published: int, backends: Dict[str, str], failed: Sequence[str],
                    plan: str) -> StatusSnapshot:
    """The figures of the status line, STATUS= and the periodic log line."""
    cameras = []
    for worker in workers:
        cam = worker.stats()
        cameras.append(
            CameraLine(cam.camera_id, cam.state, cam.fps, cam.frames_dropped, cam.reconnects))
    stage_ms: Dict[str, float] = {name: s.mean_ms for name, s in summaries.items()}
    engine_ms: Dict[str, Tuple[float, float]] = {
        name: (summaries[name].p50_ms, summaries[name].p95_ms)
        for name in engine_stages if name in summaries and summaries[name].count}
    return StatusSnapshot(
        uptime_s=time.monotonic() - started_s,
        cameras=cameras,
        inference_ms=stage_ms.get("inference", 0.0),
        stage_ms=stage_ms,
        events_published=events_published,
        events_acknowledged=stats.acknowledged,
        messages_published=stats.published,
        events_pending=stats.pending,
        broker="up" if stats.connected else "unreachable",
        engine_ms=engine_ms,
        backends=backends,
        failed_workers=sorted(failed),
        plan=plan,
    )
