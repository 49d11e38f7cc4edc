"""DeviceTelemetry: one object the telemetry publisher calls for power and thermal state.

`read()` returns a flat, JSON-ready dict, cheap enough to call every few seconds: all discovery
(globbing sysfs, parsing nvpmodel.conf) happens once in `start()` (or on the first read), and
each reading that was missing at probe time is skipped with one warning for the process's life.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from edge_agent.device.gpu import GpuReader
from edge_agent.device.power_mode import PowerModeReader, Query
from edge_agent.device.power_rails import PowerRailReader, total_power_mw
from edge_agent.device.sysfs import WarnOnce
from edge_agent.device.thermal import ThermalReader, hottest_c
from edge_agent.device.throttle import ThrottleReader


def is_jetson(root: Path) -> bool:
    """True when the device tree names an NVIDIA Tegra board."""
    try:
        return b"nvidia" in (root / "proc/device-tree/compatible").read_bytes()
    except OSError:
        return False


class DeviceTelemetry:
    """Power mode, temperatures, rails, GPU load/clock and throttling of the device under `root`."""

    def __init__(self, root: Path = Path("/"), nvpmodel_query: Optional[Query] = None) -> None:
        self._root = root
        self._warn = WarnOnce(deferred=True)
        self.power_mode = PowerModeReader(root, self._warn, nvpmodel_query)
        self.thermal = ThermalReader(root, self._warn)
        self.rails = PowerRailReader(root, self._warn)
        self.gpu = GpuReader(root, self._warn)
        self.throttle = ThrottleReader(root, self._warn)
        self._started = False

    def start(self) -> None:
        """Probe every source once (globs and conf parsing); reads after this are cheap."""
        for reader in (self.power_mode, self.thermal, self.rails, self.gpu, self.throttle):
            reader.probe()
        self._warn.flush(on_jetson=is_jetson(self._root))
        self._started = True

    def stop(self) -> None:
        """Nothing is held open between reads; present for the start/stop convention."""

    @property
    def disabled(self) -> List[str]:
        """Readings disabled because their files were missing at probe time."""
        return self._warn.disabled

    def read(self) -> Dict[str, Any]:
        """Snapshot: power_mode, temps_c, max_temp_c, rails_mw, power_mw, gpu, throttle."""
        if not self._started:
            self.start()
        temps = self.thermal.read()
        rails = self.rails.read()
        return {
            "power_mode": self.power_mode.read(),
            "temps_c": temps,
            "max_temp_c": hottest_c(temps),
            "rails_mw": rails,
            "power_mw": total_power_mw(rails),
            "gpu": self.gpu.read(),
            "throttle": self.throttle.read(),
        }
