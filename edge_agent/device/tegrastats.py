"""Parser for one `tegrastats` line: an alternative source where sysfs is unreadable.

Accepts every format seen in captures (jetson-facts.md §3.6): JP4 lines without a timestamp and
with unit-less rails (`POM_5V_IN 4520/4680`), JP5+ `mW` rails, JP7 triple rail values, per-GPC
GPU clocks (`GR3D_FREQ 12%@[1300,1300]`), non-root lines without `@freq`, lowercase sensor names,
JP7 doubled temperatures (`cpu@52.968C/52.968C`, first value used) and `-256C` for sensors off.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

_RAM_RE = re.compile(r"RAM (\d+)/(\d+)MB")
_CPU_RE = re.compile(r"CPU \[([^\]]*)\]")
_GR3D_RE = re.compile(r"GR3D_FREQ (\d+)%(?:@\[?([\d,]+)\]?)?")
_EMC_RE = re.compile(r"EMC_FREQ (\d+)%(?:@(\d+))?")
_TEMP_RE = re.compile(r"\b([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C(?:/-?\d+(?:\.\d+)?C)?")
_RAIL_RE = re.compile(r"\b([A-Z][A-Z0-9_]+) (\d+)(?:mW)?/(\d+)(?:mW)?(?:/(\d+)(?:mW)?)?")
_OFFLINE_C = -256.0


def _cpu_cores(text: str) -> List[Optional[Tuple[float, Optional[float]]]]:
    cores: List[Optional[Tuple[float, Optional[float]]]] = []
    for item in text.split(","):
        item = item.strip()
        match = re.match(r"(\d+)%(?:@(\d+))?", item)
        if match is None:  # "off": core offline under the current nvpmodel mode
            cores.append(None)
        else:
            mhz = float(match.group(2)) if match.group(2) else None
            cores.append((float(match.group(1)), mhz))
    return cores


def parse_tegrastats(line: str) -> Dict[str, object]:
    """Fields of one tegrastats line; absent fields are simply missing from the dict."""
    out: Dict[str, object] = {}
    ram = _RAM_RE.search(line)
    if ram:
        out["ram_used_mb"], out["ram_total_mb"] = int(ram.group(1)), int(ram.group(2))
    cpu = _CPU_RE.search(line)
    if cpu:
        out["cpu"] = _cpu_cores(cpu.group(1))
    gpu = _GR3D_RE.search(line)
    if gpu:
        out["gpu_load_pct"] = float(gpu.group(1))
        if gpu.group(2):
            out["gpu_freq_mhz"] = [float(v) for v in gpu.group(2).split(",") if v]
    emc = _EMC_RE.search(line)
    if emc:
        out["emc_load_pct"] = float(emc.group(1))
    temps: Dict[str, Optional[float]] = {}
    for name, value in _TEMP_RE.findall(line):
        celsius = float(value)
        temps[name.lower()] = None if celsius <= _OFFLINE_C else celsius
    if temps:
        out["temps_c"] = temps
    rails: Dict[str, Dict[str, float]] = {}
    for name, cur, avg, third in _RAIL_RE.findall(_without_non_rails(line)):
        rail = {"cur_mw": float(cur), "avg_mw": float(avg)}
        if third:
            rail["peak_mw"] = float(third)  # JP7 third value: meaning UNCONFIRMED
        rails[name] = rail
    if rails:
        out["rails_mw"] = rails
    return out


def _without_non_rails(line: str) -> str:
    """Drop fields that look like `NAME a/b` but are not rails (RAM, SWAP, IRAM, CPU lists)."""
    for pattern in (r"RAM \S+", r"SWAP \S+", r"IRAM \S+", r"CPU \[[^\]]*\]", r"\(cached \S+\)",
                    r"\(lfb [^)]*\)"):
        line = re.sub(pattern, " ", line)
    return line
