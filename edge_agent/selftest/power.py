"""Selftest, power part: read the power mode; with permission, change it and check the re-plan.

Changing the mode goes through the agent's own unprivileged route (a request file read by
edge-agent-power-mode.service, powermode/), then the device is read again and the profile's
rate for the new mode is what the agent re-plans to on its next reload. The original mode is
requested back afterwards. Without --change-power-mode nothing is changed (SKIP).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, List, Optional

from edge_agent.device.nvpmodel import ModeTable, PowerMode
from edge_agent.device.profiles import DeviceProfile
from edge_agent.selftest.report import FAIL, PASS, SKIP, Line

ModeReader = Callable[[], str]


def pick_other_mode(table: ModeTable, profile: DeviceProfile, current: str) -> Optional[PowerMode]:
    """Another mode of this board whose profile rate differs from the current one (so the
    re-plan is visible), preferring modes the profile names; None when there is none."""
    rate_now = profile.semseg_rate_for(current)
    named = {k.upper() for k in profile.rates_by_power_mode}
    candidates = [m for m in table.modes.values() if m.name.upper() != current.upper()]
    candidates.sort(key=lambda m: (m.name.upper() not in named, m.id))
    for mode in candidates:
        if profile.semseg_rate_for(mode.name) != rate_now:
            return mode
    return None


def _switch(mode: PowerMode, table: ModeTable, request_dir: Path, result_dir: Path,
            read_mode: ModeReader, wait_s: float) -> str:
    """Request `mode`; '' once the device reports it, else why not."""
    from edge_agent.powermode.request import read_result, write_request

    asked_at = time.time()
    write_request(request_dir, str(mode.id), table)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        result = read_result(result_dir)
        if result is not None and result.at_s >= asked_at - 1:
            if not result.applied:
                return f"the power-mode helper refused: {result.error}"
            now = read_mode()
            return "" if now.upper() == mode.name.upper() else f"device still reports {now}"
        time.sleep(0.5)
    return f"no result from edge-agent-power-mode.service within {wait_s:.0f} s"


def power_lines(is_jetson: bool, current: str, profile: DeviceProfile, change: bool,
                table: Optional[ModeTable], read_mode: ModeReader, request_dir: Path,
                result_dir: Path, wait_s: float = 60.0) -> List[Line]:
    """'power mode' read line and the 're-plan' line."""
    if not is_jetson:
        return [Line("power mode", SKIP, "not a Jetson (no nvpmodel)"),
                Line("re-plan after mode change", SKIP, "not a Jetson")]
    lines = [Line("power mode", PASS if current else FAIL,
                  f"{current} (profile rate {profile.semseg_rate_for(current):g} Hz)" if current
                  else "could not read /var/lib/nvpmodel/status or nvpmodel -q")]
    if not change:
        lines.append(Line("re-plan after mode change", SKIP, "pass --change-power-mode to "
                          "switch modes for a moment (needs edge-agent-power-mode.path)"))
        return lines
    other = pick_other_mode(table, profile, current) if table is not None and current else None
    if other is None:
        lines.append(Line("re-plan after mode change", SKIP, "no other mode with a different "
                          "profile rate on this board"))
        return lines
    assert table is not None
    problem = _switch(other, table, request_dir, result_dir, read_mode, wait_s)
    back = next((m for m in table.modes.values() if m.name.upper() == current.upper()), None)
    restored = _switch(back, table, request_dir, result_dir, read_mode, wait_s) if back else ""
    if problem:
        lines.append(Line("re-plan after mode change", FAIL, f"{current} → {other.name}: "
                          f"{problem}"))
    else:
        lines.append(Line("re-plan after mode change", PASS, f"{current} → {other.name}: "
                          f"semseg rate {profile.semseg_rate_for(current):g} → "
                          f"{profile.semseg_rate_for(other.name):g} Hz"
                          + (f"; restoring {current} failed: {restored}" if restored else
                             f"; {current} restored")))
    return lines
