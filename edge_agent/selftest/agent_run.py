"""Selftest, agent part: run the agent in this process for a while and judge what it did.

Only the public Agent API is used (prepare, start, snapshot, model_backends, stop), so the
check follows the daemon whatever its internals become. RSS is sampled once a second from
/proc/self/status for the memory-growth judgement.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from edge_agent.agent.daemon import Agent
from edge_agent.pipeline.status import StatusSnapshot
from edge_agent.selftest.measure import latency_line, memory_line
from edge_agent.selftest.report import FAIL, INFO, PASS, Line
from edge_agent.settings import AgentSettings


def rss_bytes(status_path: Path = Path("/proc/self/status")) -> int:
    """Resident set size of this process (VmRSS), 0 where /proc is missing."""
    try:
        for line in status_path.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class AgentRun:
    """What one run produced."""

    duration_s: float
    samples: List[Tuple[float, int]] = field(default_factory=list)
    snapshot: Optional[StatusSnapshot] = None
    backends: Dict[str, str] = field(default_factory=dict)


def run_agent_for(settings: AgentSettings, duration_s: float,
                  stop: Optional[threading.Event] = None, sample_every_s: float = 1.0) -> AgentRun:
    """prepare, start, sample for `duration_s`, snapshot, stop."""
    agent = Agent(settings)
    agent.prepare()
    stop = stop or threading.Event()
    run = AgentRun(duration_s)
    agent.start()
    started = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            run.samples.append((now - started, rss_bytes()))
            if now - started >= duration_s or stop.wait(sample_every_s):
                break
        run.snapshot = agent.snapshot()
        run.backends = agent.model_backends()
    finally:
        agent.stop()
    return run


def agent_lines(run: AgentRun, want_tensorrt: bool, semseg_name: str, semseg_rate_hz: float,
                tracking_rate_hz: float, warmup_s: float) -> List[Line]:
    """Lines for the run: frames and events, backends, memory, latency against the profile."""
    snap = run.snapshot
    if snap is None:
        return [Line("agent run", FAIL, "no status snapshot was taken")]
    fps = ", ".join(f"{c.camera_id} {c.fps:.1f} fps ({c.state})" for c in snap.cameras)
    moving = snap.events_published > 0 and all(c.fps > 0 for c in snap.cameras)
    lines = [Line("agent run", PASS if moving else FAIL,
                  f"{run.duration_s:.0f} s: {fps}; {snap.events_published} events published; "
                  f"broker {snap.broker}, {snap.events_acknowledged} messages acknowledged")]
    expected = "tensorrt" if want_tensorrt else "onnxruntime"
    wrong = {m: b for m, b in run.backends.items() if b != expected}
    served = ", ".join(f"{m}={b}" for m, b in sorted(run.backends.items())) or "none"
    lines.append(Line("backends", FAIL if wrong else PASS, f"{served} (expected {expected})"))
    lines.append(memory_line(run.samples, warmup_s))
    semseg_ms = snap.stage_ms.get("inference")
    lines.append(latency_line(semseg_name, semseg_ms, semseg_rate_hz, "mean in the agent",
                              judged=want_tensorrt))
    for stage in ("peoplenet", "reid"):
        if stage in snap.engine_ms:
            p50, p95 = snap.engine_ms[stage]
            line = latency_line(stage, p50, tracking_rate_hz, "p50 in the agent",
                                judged=want_tensorrt)
            lines.append(Line(line.name, line.verdict, f"{line.detail}; p95 {p95:.1f} ms"))
    if "tracker" in snap.engine_ms:
        p50, p95 = snap.engine_ms["tracker"]
        lines.append(Line("latency tracker", INFO, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"))
    return lines
