"""Integrated-GPU load (%) and frequency (Hz) from devfreq.

The devfreq entry is named differently per SoC and release (`57000000.gpu` on Nano,
`17000000.gv11b` on Xavier, `17000000.ga10b` on Orin JP5, `17000000.gpu` on Orin JP6), so it is
found by its `device/of_node/name` as jtop does. `device/load` is per-mille (0–1000).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

from edge_agent.device.sysfs import WarnOnce, read_int, read_text, sorted_glob, under

DEVFREQ_DIR = "/sys/class/devfreq"
GPU_NODE_NAMES = ("gpu", "gv11b", "gp10b", "ga10b")


def find_gpu_devfreq(root: Path) -> Optional[Path]:
    """The devfreq directory of the integrated GPU under `root`, or None."""
    for entry in sorted_glob(under(root, DEVFREQ_DIR), "*"):
        node = (read_text(entry / "device" / "of_node" / "name") or "").rstrip("\x00")
        if node in GPU_NODE_NAMES or "gpu" in node:
            return entry
    return None


class GpuReader:
    """Load and clocks of the integrated GPU found at probe time."""

    def __init__(self, root: Path, warn: WarnOnce) -> None:
        self._root = Path(root)
        self._warn = warn
        self._devfreq: Optional[Path] = None
        self._probed = False

    def probe(self) -> None:
        """Locate the GPU's devfreq entry once."""
        self._probed = True
        self._devfreq = find_gpu_devfreq(self._root)
        if self._devfreq is None:
            base = under(self._root, DEVFREQ_DIR)
            self._warn.warn("gpu", f"no integrated-GPU devfreq under {base}")

    def read(self) -> Dict[str, Optional[float]]:
        """{'load_pct', 'freq_hz', 'max_freq_hz'}; {} off Jetson."""
        if not self._probed:
            self.probe()
        if self._devfreq is None:
            return {}
        load = read_int(self._devfreq / "device" / "load")
        cur, top = read_int(self._devfreq / "cur_freq"), read_int(self._devfreq / "max_freq")
        return {
            "load_pct": None if load is None else load / 10.0,
            "freq_hz": None if cur is None else float(cur),
            "max_freq_hz": None if top is None else float(top),
        }
