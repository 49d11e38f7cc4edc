"""Throttling signals: Orin over-current/under-voltage event counters.

Orin's `soctherm_oc` hwmon device counts under-voltage (`oc1_event_cnt`), average over-current
(`oc2_event_cnt`) and instantaneous over-current (`oc3_event_cnt`) events; each one throttles
clocks (jetson-facts.md §3.5, partially confirmed). A counter that grew since the previous read
means the device throttled in between. Thermal throttling shows as a GPU clock below the mode's
cap under load; telemetry reports both clocks so a dashboard can see it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

from edge_agent.device.sysfs import WarnOnce, read_int, read_text, sorted_glob, under

HWMON_DIR = "/sys/class/hwmon"
OC_COUNTERS = ("oc1_event_cnt", "oc2_event_cnt", "oc3_event_cnt")


class ThrottleReader:
    """Over-current event counters and whether they moved since the last read."""

    def __init__(self, root: Path, warn: WarnOnce) -> None:
        self._root = Path(root)
        self._warn = warn
        self._hwmon: Optional[Path] = None
        self._last: Dict[str, int] = {}
        self._probed = False

    def probe(self) -> None:
        """Find the soctherm_oc hwmon device once and remember the counters' start values."""
        self._probed = True
        for hwmon in sorted_glob(under(self._root, HWMON_DIR), "hwmon*"):
            if read_text(hwmon / "name") == "soctherm_oc":
                self._hwmon = hwmon
                break
        if self._hwmon is None:
            self._warn.warn("throttle", "no soctherm_oc hwmon (present on Orin only)")
            return
        self._last = self._counters()

    def _counters(self) -> Dict[str, int]:
        assert self._hwmon is not None
        values = {name: read_int(self._hwmon / name) for name in OC_COUNTERS}
        return {name: value for name, value in values.items() if value is not None}

    def read(self) -> Dict[str, object]:
        """{'oc_events': {...}, 'throttled': bool}; {} where the device has no counters."""
        if not self._probed:
            self.probe()
        if self._hwmon is None:
            return {}
        now = self._counters()
        throttled = any(now.get(name, 0) > self._last.get(name, 0) for name in now)
        self._last = now
        return {"oc_events": dict(now), "throttled": throttled}
