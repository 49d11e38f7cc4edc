"""Power modes: the mode table from /etc/nvpmodel.conf and the current mode.

Mode IDs differ between modules and releases (MAXN is ID 0 on AGX Orin but ID 2 on Orin Nano
"Super"), so the agent never assumes "ID 0 = fastest": it resolves names from the conf and reads
the current ID from `/var/lib/nvpmodel/status` (`pmode:0002 fmode:...`, readable without root),
falling back to `nvpmodel -q` (jetson-facts.md §2). Units in the conf: CPU kHz, GPU Hz;
-1 or INT_MAX means uncapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

_INT_MAX = 2147483647
_MODEL_RE = re.compile(r"<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=([^\s>]+)\s*>")
_VERBOSE_MODEL_RE = re.compile(r"POWER_MODEL:\s*ID=(\d+)\s+NAME=(\S+)")
_DEFAULT_RE = re.compile(r"<\s*PM_CONFIG\s+DEFAULT=(\d+)\s*>")
_VERBOSE_DEFAULT_RE = re.compile(r"PM_CONFIG:\s*DEFAULT=\S*?\((\d+)\)")
_QUERY_RE = re.compile(r"NV Power Mode:\s*(\w+)")
_STATUS_RE = re.compile(r"pmode:(\d+)")
_BUDGET_RE = re.compile(r"(\d+(?:\.\d+)?)W", re.IGNORECASE)


@dataclass(frozen=True)
class PowerMode:
    """One POWER_MODEL block: its caps as the conf sets them (None = uncapped / not set)."""

    id: int
    name: str
    budget_w: Optional[float] = None
    cpu_online: Optional[int] = None
    cpu_max_khz: Optional[int] = None
    gpu_max_hz: Optional[int] = None

    @property
    def uncapped(self) -> bool:
        """MAXN / MAXN_SUPER: no power budget in the name."""
        return self.name.upper().startswith("MAXN")


@dataclass(frozen=True)
class ModeTable:
    """All modes of one conf file plus its PM_CONFIG default."""

    modes: Dict[int, PowerMode] = field(default_factory=dict)
    default_id: Optional[int] = None

    def by_name(self, name: str) -> Optional[PowerMode]:
        """The mode called `name` (case-insensitive), if any."""
        return next((m for m in self.modes.values() if m.name.upper() == name.upper()), None)


def budget_from_name(name: str) -> Optional[float]:
    """Watts encoded in a mode name ('MODE_15W_6CORE' → 15.0, '7W_AI' → 7.0, 'MAXN' → None)."""
    match = _BUDGET_RE.search(name)
    return float(match.group(1)) if match else None


def _cap(value: str) -> Optional[int]:
    try:
        number = int(value)
    except ValueError:
        return None
    return None if number < 0 or number >= _INT_MAX or number == 0 else number


def _parse_blocks(lines: Tuple[str, ...], model_re: "re.Pattern[str]") -> Dict[int, PowerMode]:
    modes: Dict[int, PowerMode] = {}
    current: Optional[Dict[str, object]] = None

    def close() -> None:
        if current is not None:
            mode = PowerMode(**current)  # type: ignore[arg-type]
            modes[mode.id] = mode

    for line in lines:
        match = model_re.search(line)
        if match:
            close()
            name = match.group(2)
            current = {"id": int(match.group(1)), "name": name,
                       "budget_w": budget_from_name(name)}
            continue
        if current is None or line.startswith("<"):
            if line.startswith("<"):
                close()
                current = None
            continue
        parts = line.split()
        if len(parts) != 3:
            continue
        param, arg, value = parts
        if param == "CPU_ONLINE" and arg.startswith("CORE_"):
            online = int(current.get("cpu_online") or 0)  # type: ignore[call-overload]
            current["cpu_online"] = online + (1 if value == "1" else 0)
        elif param.startswith("CPU_") and arg == "MAX_FREQ":
            cap = _cap(value)
            prev = current.get("cpu_max_khz")
            if cap is not None:
                current["cpu_max_khz"] = max(cap, prev) if isinstance(prev, int) else cap
        elif param == "GPU" and arg == "MAX_FREQ":
            current["gpu_max_hz"] = _cap(value)
    close()
    return modes


def parse_nvpmodel_conf(text: str) -> ModeTable:
    """The mode table of an nvpmodel.conf (`< POWER_MODEL ID=n NAME=x >` blocks)."""
    lines = tuple(line.split("#", 1)[0].strip() for line in text.splitlines())
    modes = _parse_blocks(tuple(line for line in lines if line), _MODEL_RE)
    default = _DEFAULT_RE.search(text)
    return ModeTable(modes=modes, default_id=int(default.group(1)) if default else None)


def parse_nvpmodel_verbose(text: str) -> ModeTable:
    """The mode table from `nvpmodel -p --verbose` output (`NVPM VERB: ...` lines)."""
    lines = tuple(
        line.split("NVPM VERB:", 1)[1].strip() if "NVPM VERB:" in line else line.strip()
        for line in text.splitlines()
    )
    modes = _parse_blocks(tuple(line for line in lines if line), _VERBOSE_MODEL_RE)
    default = _VERBOSE_DEFAULT_RE.search(text)
    return ModeTable(modes=modes, default_id=int(default.group(1)) if default else None)


def parse_status_file(text: str) -> Optional[int]:
    """Mode ID from /var/lib/nvpmodel/status ('pmode:0002 fmode:fan_mode_quiet' → 2)."""
    match = _STATUS_RE.search(text)
    return int(match.group(1)) if match else None


def parse_query(text: str) -> Optional[Tuple[str, int]]:
    """(name, id) from `nvpmodel -q [--verbose]`: the mode line, then the ID on the next line."""
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        match = _QUERY_RE.search(line)
        if not match:
            continue
        for following in lines[index + 1:]:
            candidate = following.split("NVPM VERB:", 1)[-1].strip()
            if candidate.isdigit():
                return match.group(1), int(candidate)
            if candidate:
                break
        return None
    return None
