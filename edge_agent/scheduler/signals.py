"""Device readings the scheduler reacts to, read under a root path (fixture trees in tests).

The power mode comes from /var/lib/nvpmodel/status resolved against /etc/nvpmodel.conf (the
existing PowerModeReader). The GPU clock is only meaningful under load: devfreq lowers
`cur_freq` when the GPU idles, which is not throttling, so a reading taken below
LOADED_PCT load keeps the previous loaded value. Throttling is the Orin over-current counters
moving (ThrottleReader).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from edge_agent.device.gpu import GpuReader
from edge_agent.device.power_mode import PowerModeReader
from edge_agent.device.sysfs import WarnOnce
from edge_agent.device.throttle import ThrottleReader

LOADED_PCT = 50.0


@dataclass(frozen=True)
class DeviceReading:
    """Power mode name ('' when unknown), loaded GPU clock in MHz, throttling."""

    mode: str
    gpu_mhz: Optional[float] = None
    throttled: bool = False


class DeviceSignals:
    """Reads the three signals; cheap enough to poll every 250 ms (a few small sysfs files)."""

    def __init__(self, root: Path, warn: Optional[WarnOnce] = None) -> None:
        warn = warn if warn is not None else WarnOnce()
        self._mode = PowerModeReader(Path(root), warn, query=None)
        self._gpu = GpuReader(Path(root), warn)
        self._throttle = ThrottleReader(Path(root), warn)
        self._loaded_mhz: Optional[float] = None

    def read(self) -> DeviceReading:
        mode = self._mode.read()
        gpu = self._gpu.read()
        freq, load = gpu.get("freq_hz"), gpu.get("load_pct")
        if freq is not None and load is not None and load >= LOADED_PCT:
            self._loaded_mhz = freq / 1e6
        throttled = bool(self._throttle.read().get("throttled", False))
        return DeviceReading(str(mode.get("name") or ""), self._loaded_mhz, throttled)
