"""INA3221 power rails in both driver layouts, in mW.

JetPack 4 (`ina3221x`, IIO) exposes `rail_name_<k>` and `in_power<k>_input` in mW, channels from 0.
JetPack 5+ (`ina3221`, hwmon) exposes `in<k>_label`, `in<k>_input` (mV) and `curr<k>_input` (mA),
channels 1–3, with no power file: power = mV·mA/1000. Labels starting `NC` are unconnected and
`in7` is the shunt-voltage sum (jetson-facts.md §3.1). hwmonN numbers change between boots, so
both layouts are globbed, never hard-coded.

Total power: the board-input rail (`POM_5V_IN` on Nano, `VDD_IN` on Xavier NX / Orin NX / Nano)
when present, else the sum of all rails (AGX Xavier and AGX Orin have no input rail) — as jtop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from edge_agent.device.sysfs import WarnOnce, read_int, read_text, sorted_glob, under

IIO_BASE = "/sys/bus/i2c/drivers/ina3221x"
HWMON_BASE = "/sys/bus/i2c/drivers/ina3221"
INPUT_RAILS = ("POM_5V_IN", "VDD_IN")


@dataclass(frozen=True)
class _Rail:
    name: str
    power_path: Optional[Path] = None  # JP4: mW directly
    volt_path: Optional[Path] = None  # JP5+: mV
    curr_path: Optional[Path] = None  # JP5+: mA

    def read_mw(self) -> Optional[float]:
        if self.power_path is not None:
            value = read_int(self.power_path)
            return None if value is None else float(value)
        if self.volt_path is None or self.curr_path is None:
            return None
        volts_mv, amps_ma = read_int(self.volt_path), read_int(self.curr_path)
        if volts_mv is None or amps_ma is None:
            return None
        return volts_mv * amps_ma / 1000.0


def _iio_rails(root: Path) -> List[_Rail]:
    rails = []
    for device in sorted_glob(under(root, IIO_BASE), "*/iio:device*"):
        for label_file in sorted_glob(device, "rail_name_*"):
            channel = label_file.name.rsplit("_", 1)[-1]
            name = read_text(label_file)
            if name:
                rails.append(_Rail(name, power_path=device / f"in_power{channel}_input"))
    return rails


def _hwmon_rails(root: Path) -> List[_Rail]:
    rails = []
    for device in sorted_glob(under(root, HWMON_BASE), "*/hwmon/hwmon*"):
        for label_file in sorted_glob(device, "in*_label"):
            channel = label_file.name[2:-len("_label")]
            name = read_text(label_file) or ""
            if not channel.isdigit() or channel == "7" or not name or name.upper().startswith("NC"):
                continue
            if "sum of shunt" in name.lower():
                continue
            rails.append(_Rail(name, volt_path=device / f"in{channel}_input",
                               curr_path=device / f"curr{channel}_input"))
    return rails


class PowerRailReader:
    """Reads every rail found at probe time, whichever driver layout the release uses."""

    def __init__(self, root: Path, warn: WarnOnce) -> None:
        self._root = Path(root)
        self._warn = warn
        self._rails: List[_Rail] = []
        self._probed = False
        self.layout = ""

    def probe(self) -> None:
        """Glob both layouts once; remember which one answered."""
        self._probed = True
        self._rails = _hwmon_rails(self._root)
        self.layout = "hwmon" if self._rails else ""
        if not self._rails:
            self._rails = _iio_rails(self._root)
            self.layout = "iio" if self._rails else ""
        if not self._rails:
            self._warn.warn("power_rails", "no INA3221 rails (Nano 2GB and most x86 have none)")

    def read(self) -> Dict[str, Optional[float]]:
        """mW per rail name; None for a rail that could not be read this sample."""
        if not self._probed:
            self.probe()
        return {rail.name: rail.read_mw() for rail in self._rails}


def total_power_mw(rails: Dict[str, Optional[float]]) -> Optional[float]:
    """Board input power: the input rail when present, else the sum of readable rails."""
    for name in INPUT_RAILS:
        if rails.get(name) is not None:
            return rails[name]
    values = [v for v in rails.values() if v is not None]
    return sum(values) if values else None
