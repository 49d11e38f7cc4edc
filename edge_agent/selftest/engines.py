"""Selftest, TensorRT part: build or reuse each enabled engine, then measure it alone.

Uses the agent's own path (plan_build, EngineBuilder with its smoke inference, the cache and
load_cached_engine's contract check), so a PASS here means the agent will load the same file.
Each engine then runs a few warm-up batches and `RUNS` timed ones at its minimum batch: the
allocation counter must not move (buffers are reused) and the median latency is compared with
the period the device profile's rate allows.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable, List, Optional

from edge_agent.device.identity import DeviceIdentity
from edge_agent.device.profiles import DeviceProfile
from edge_agent.inference.tensorrt_build import (
    EngineBuilder,
    EngineToolkit,
    plan_build,
    smoke_feeds,
)
from edge_agent.inference.tensorrt_cache import EngineCache
from edge_agent.inference.tensorrt_loader import load_cached_engine
from edge_agent.models.store import ModelRecord
from edge_agent.selftest.measure import allocation_line, latency_line
from edge_agent.selftest.report import FAIL, PASS, WARMUP_RUNS, Line

RUNS = 20


def _dla_text(header: dict, dla_core: int) -> str:  # type: ignore[type-arg]
    if dla_core < 0:
        return "GPU"
    layers = header.get("dla_layers")
    if not isinstance(layers, int):
        return f"DLA core {dla_core}: layer count not reported by TensorRT"
    return f"DLA core {dla_core}: {layers} layer(s) on the DLA, {header.get('gpu_layers')} on GPU"


def engine_lines(identity: DeviceIdentity, profile: DeviceProfile, power_mode: str,
                 records: List[ModelRecord], toolkit: EngineToolkit, engine_dir: Path,
                 progress: Callable[[str], None], semseg_name: str) -> List[Line]:
    """Build/load/measure lines for every model in `records`."""
    caps = toolkit.capabilities()
    cache = EngineCache(engine_dir)
    lines: List[Line] = []
    for record in records:
        name = record.name
        request = plan_build(identity, profile, record, caps)
        started = time.monotonic()
        status = EngineBuilder(toolkit, cache, progress=progress).build_now(request)
        if status.state != "ready":
            lines.append(Line(f"engine {name}", FAIL, f"build failed: {status.detail}"))
            continue
        header = cache.check(request.key).header or {}
        settings = request.settings
        dla = _dla_text(header, settings.dla_core)
        how = ("reused from the cache" if status.detail == "cached"
               else f"built in {time.monotonic() - started:.0f} s")
        dla_failed = settings.dla_core >= 0 and header.get("dla_layers") == 0
        lines.append(Line(f"engine {name}", FAIL if dla_failed else PASS,
                          f"{how}; {settings.precision}, batch {settings.batch_min}.."
                          f"{settings.batch_max}, {dla}; TensorRT {caps.version}"))
        try:
            backend = load_cached_engine(toolkit, cache, request, record.manifest)
        except Exception as exc:  # noqa: BLE001 - reported as a failed check
            lines.append(Line(f"load {name}", FAIL, str(exc)))
            continue
        try:
            feeds = smoke_feeds(request)
            for _ in range(WARMUP_RUNS):
                backend.run(feeds)
            before: Optional[int] = backend.allocations
            times_ms = []
            for _ in range(RUNS):
                tick = time.perf_counter()
                backend.run(feeds)
                times_ms.append((time.perf_counter() - tick) * 1000.0)
            after = backend.allocations
        finally:
            backend.close()
        grown = None if before is None or after is None else after - before
        lines.append(allocation_line(name, grown, RUNS))
        rate_hz = profile.semseg_rate_for(power_mode) if name == semseg_name else 0.0
        batch = settings.inputs[0].min_shape[0] if settings.inputs else 1
        lines.append(latency_line(f"{name} (engine)", statistics.median(times_ms), rate_hz,
                                  f"median of {RUNS}, batch {batch}"))
    return lines
