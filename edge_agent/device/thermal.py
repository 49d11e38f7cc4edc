"""Thermal zones: temperature per zone `type`, in °C.

Zone numbering differs between modules and releases, so zones are keyed by their `type`
(`cpu-thermal`, `tj-thermal`, `CPU-therm`...). A zone whose read fails (Orin cv* zones return
EAGAIN while DLA/PVA are power-gated) or reports -256 °C is "off" for that sample, not an error.
PMIC zones read a constant 100 °C on Nano and are excluded from the maximum (jtop does the same).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

from edge_agent.device.sysfs import WarnOnce, read_int, read_text, sorted_glob, under

THERMAL_DIR = "/sys/class/thermal"
OFFLINE_C = -256.0


class ThermalReader:
    """Reads every thermal zone found at probe time."""

    def __init__(self, root: Path, warn: WarnOnce) -> None:
        self._root = Path(root)
        self._warn = warn
        self._zones: List[Tuple[str, Path]] = []
        self._probed = False

    def probe(self) -> None:
        """Find zones and their types once."""
        self._probed = True
        base = under(self._root, THERMAL_DIR)
        for zone in sorted_glob(base, "thermal_zone*"):
            zone_type = read_text(zone / "type")
            if zone_type:
                self._zones.append((zone_type, zone / "temp"))
        if not self._zones:
            self._warn.warn("temperatures", f"no thermal zones under {base}")

    def read(self) -> Dict[str, Optional[float]]:
        """°C per zone type; None for a zone that is off this sample."""
        if not self._probed:
            self.probe()
        temps: Dict[str, Optional[float]] = {}
        for zone_type, path in self._zones:
            milli = read_int(path)
            value = None if milli is None else milli / 1000.0
            temps[zone_type] = None if value is None or value <= OFFLINE_C else value
        return temps


def hottest_c(temps: Dict[str, Optional[float]]) -> Optional[float]:
    """The highest live temperature, ignoring PMIC zones (constant 100 °C on Nano)."""
    live = [t for name, t in temps.items() if t is not None and "pmic" not in name.lower()]
    return max(live) if live else None
