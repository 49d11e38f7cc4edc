"""Helpers to run systemd's offline tools on the project's units.

`systemd-analyze verify` refuses a unit whose ExecStart binary does not exist, so the units
are copied with their /opt/edge-agent and /bin/kill paths pointed at an executable stub (or at
a real install tree). The tools are required in CI (scripts/setup-env.sh installs the
`systemd` package); elsewhere the tests that need them skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "systemd"


def require_systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing; scripts/setup-env.sh installs `systemd`")
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    return path


def stage_units(directory: Path, prefix: str = "") -> List[Path]:
    """Copy every unit into `directory` with executables redirected.

    prefix '' points ExecStart at a stub script; a path prefix points it at that install root.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stub = directory / "stub"
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)
    staged = []
    for unit in sorted(UNITS.glob("*.service")) + sorted(UNITS.glob("*.path")):
        text = unit.read_text(encoding="utf-8")
        if prefix:
            text = text.replace("/opt/edge-agent/", f"{prefix}/opt/edge-agent/")
        else:
            text = text.replace("/opt/edge-agent/venv/bin/edge-agent", str(stub))
            text = text.replace("/opt/edge-agent/venv/bin/python", str(stub))
        text = text.replace("/bin/kill ", f"{stub} ")
        target = directory / unit.name
        target.write_text(text, encoding="utf-8")
        staged.append(target)
    return staged


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_systemd_analyze(), *args], capture_output=True, text=True, timeout=120, check=False
    )
