"""Reads the current power mode cheaply: status file first, `nvpmodel -q` only as a fallback.

The conf table is parsed once at probe time; each read is one small file read. `nvpmodel -q`
is a subprocess (tens of ms, may need root on some releases), so it is used only where the status
file is missing, through a callable that tests replace with a FAKE.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable, Dict, Optional

from edge_agent.device.nvpmodel import (
    ModeTable,
    parse_nvpmodel_conf,
    parse_query,
    parse_status_file,
)
from edge_agent.device.sysfs import WarnOnce, read_text, under

STATUS_FILE = "/var/lib/nvpmodel/status"
CONF_FILE = "/etc/nvpmodel.conf"
QUERY_TIMEOUT_S = 5.0

Query = Callable[[], Optional[str]]


def run_nvpmodel_query() -> Optional[str]:
    """Output of the real `nvpmodel -q`, or None where the tool is absent or fails."""
    binary = shutil.which("nvpmodel") or ("/usr/sbin/nvpmodel" if Path(
        "/usr/sbin/nvpmodel").exists() else None)
    if binary is None:
        return None
    try:
        done = subprocess.run([binary, "-q"], capture_output=True, text=True,
                              timeout=QUERY_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


class PowerModeReader:
    """Current nvpmodel mode (ID, name, budget) under a root path."""

    def __init__(self, root: Path, warn: WarnOnce, query: Optional[Query] = None) -> None:
        self._root = Path(root)
        self._warn = warn
        # The real tool only makes sense on the real root; fixture trees pass a FAKE or nothing.
        self._query = query if query is not None else (
            run_nvpmodel_query if self._root == Path("/") else None)
        self.table = ModeTable()
        self._status_path: Optional[Path] = None
        self._probed = False

    def probe(self) -> None:
        """Parse the conf's mode table and find the status file, once."""
        self._probed = True
        conf = read_text(under(self._root, CONF_FILE))
        if conf is None:
            self._warn.warn("power_mode_table", f"{under(self._root, CONF_FILE)} not readable")
        else:
            self.table = parse_nvpmodel_conf(conf)
        status = under(self._root, STATUS_FILE)
        if status.is_file():
            self._status_path = status
        elif self._query is None:
            self._warn.warn("power_mode", f"{status} missing and no nvpmodel tool")

    def read(self) -> Dict[str, object]:
        """{'id', 'name', 'budget_w', 'uncapped'} of the current mode; {} when unknown."""
        if not self._probed:
            self.probe()
        mode_id: Optional[int] = None
        name = ""
        if self._status_path is not None:
            mode_id = parse_status_file(read_text(self._status_path) or "")
        if mode_id is None and self._query is not None:
            parsed = parse_query(self._query() or "")
            if parsed is not None:
                name, mode_id = parsed
        if mode_id is None:
            return {}
        mode = self.table.modes.get(mode_id)
        if mode is not None:
            name = mode.name
        budget = mode.budget_w if mode is not None else None
        return {
            "id": mode_id,
            "name": name,
            "budget_w": budget,
            "uncapped": name.upper().startswith("MAXN"),
        }
