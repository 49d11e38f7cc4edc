"""When to re-plan, with hysteresis so the plan does not oscillate.

Immediate triggers (facts, not noise): the power mode changed, a task or camera was added or
removed. Held triggers (measurements, which flicker): the GPU clock moved by more than
CLOCK_BAND from the clock planned for, throttling started or stopped, or an engine's measured /
seed latency ratio drifted by more than DRIFT_BAND from the ratio planned for, or an engine
planned without any latency (a probe) got its first measurements. A held trigger
must persist for `hold_s` and at least `min_interval_s` must have passed since the last plan;
after a re-plan the new readings become the baseline, so a value hovering at a threshold cannot
flip the plan back and forth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Optional, Tuple

CLOCK_BAND = 0.10
DRIFT_BAND = 0.25


@dataclass(frozen=True)
class Snapshot:
    """What the plan was made for, or what is true now."""

    mode: str
    gpu_mhz: Optional[float] = None
    throttled: bool = False
    tasks: FrozenSet[str] = frozenset()
    cameras: FrozenSet[str] = frozenset()
    ratios: Dict[str, float] = field(default_factory=dict)
    measured: FrozenSet[str] = frozenset()  # tasks whose engine has enough samples


class ReplanMonitor:
    """Pure: feed it snapshots with the time; it answers with a reason to re-plan or None."""

    def __init__(self, hold_s: float = 1.0, min_interval_s: float = 2.0,
                 clock_band: float = CLOCK_BAND, drift_band: float = DRIFT_BAND) -> None:
        self._hold_s = hold_s
        self._min_interval_s = min_interval_s
        self._clock_band = clock_band
        self._drift_band = drift_band
        self._baseline: Optional[Snapshot] = None
        self._planned_at_s = float("-inf")
        self._pending: Dict[str, float] = {}  # held trigger → since when it has been true

    def planned(self, snapshot: Snapshot, now_s: float) -> None:
        """A plan was made for `snapshot` at `now_s`: the new baseline."""
        self._baseline = snapshot
        self._planned_at_s = now_s
        self._pending.clear()

    def check(self, now: Snapshot, now_s: float) -> Optional[str]:
        """The reason to re-plan now, or None."""
        base = self._baseline
        if base is None:
            return "first plan"
        immediate = self._immediate(base, now)
        if immediate is not None:
            return immediate
        held = self._held(base, now)
        for key in list(self._pending):
            if key not in held:
                del self._pending[key]
        for key in held:
            self._pending.setdefault(key, now_s)
        ready = [held[k] for k, since in sorted(self._pending.items())
                 if now_s - since >= self._hold_s]
        if ready and now_s - self._planned_at_s >= self._min_interval_s:
            return "; ".join(ready)
        return None

    @staticmethod
    def _immediate(base: Snapshot, now: Snapshot) -> Optional[str]:
        if now.mode != base.mode:
            return f"power mode {base.mode or '?'} -> {now.mode or '?'}"
        reasons = []
        for what, old, new in (("task", base.tasks, now.tasks),
                               ("camera", base.cameras, now.cameras)):
            added, removed = sorted(new - old), sorted(old - new)
            if added:
                reasons.append(f"{what} added: {', '.join(added)}")
            if removed:
                reasons.append(f"{what} removed: {', '.join(removed)}")
        return "; ".join(reasons) or None

    def _held(self, base: Snapshot, now: Snapshot) -> Dict[str, str]:
        held: Dict[str, str] = {}
        if base.gpu_mhz and now.gpu_mhz:
            change = now.gpu_mhz / base.gpu_mhz
            if abs(change - 1.0) > self._clock_band:
                held["clock"] = f"GPU clock {base.gpu_mhz:.0f} -> {now.gpu_mhz:.0f} MHz"
        if now.throttled != base.throttled:
            held["throttle"] = "throttling " + ("started" if now.throttled else "ended")
        drifted: Tuple[str, ...] = tuple(
            f"{name} x{ratio / base.ratios[name]:.2f}" for name, ratio in sorted(now.ratios.items())
            if name in base.ratios and base.ratios[name] > 0
            and abs(ratio / base.ratios[name] - 1.0) > self._drift_band)
        if drifted:
            held["drift"] = "drift: " + ", ".join(drifted)
        newly = sorted(now.measured - base.measured)
        if newly:
            held["measured"] = "first measurements: " + ", ".join(newly)
        return held
