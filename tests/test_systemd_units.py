"""The shipped units load, score as hardened, and keep what a Jetson needs.

`systemd-analyze verify` and `security --offline=true` run for real (systemd 252 here; the
targets run 245 and 249, so the units are also checked for keys newer than 245).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

from systemd_tools import UNITS, analyze, stage_units

from edge_agent.errors import ExitCode

AGENT = UNITS / "edge-agent.service"
HELPER = UNITS / "edge-agent-power-mode.service"

# Keys introduced after systemd 245 (NEWS); on JetPack 5 they are "Unknown key ... ignoring".
# Only those whose absence is harmless may appear.
NEWER_THAN_245 = {
    "ProtectProc": 247,
    "ProcSubset": 247,
    "ManagedOOMSwap": 247,
    "PrivateIPC": 248,
    "ExecSearchPath": 250,
    "ExitType": 250,
    "RestrictFileSystems": 250,
    "LoadCredentialEncrypted": 250,
    "SetCredentialEncrypted": 250,
    "ReloadSignal": 253,
    "OpenFile": 253,
    "RestartMode": 254,
    "MemoryKSM": 254,
}
HARMLESS_IF_IGNORED = {"ProtectProc"}


def directives(path: Path) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key, []).append(value)
    return found


def test_units_verify_cleanly(tmp_path: Path) -> None:
    staged = stage_units(tmp_path)
    done = analyze("verify", *[str(p) for p in staged])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr  # not even a warning


def test_agent_unit_exposure_at_most_2_0(tmp_path: Path) -> None:
    stage_units(tmp_path)
    done = analyze("security", "--offline=true", "--threshold=20", str(tmp_path / AGENT.name))
    assert done.returncode == 0, done.stdout[-3000:]
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert score is not None and float(score.group(1)) <= 2.0


def test_power_mode_helper_is_hardened_too(tmp_path: Path) -> None:
    """Root, but confined: no network, read-only system, bounded capabilities (measured 2.3)."""
    stage_units(tmp_path)
    done = analyze("security", "--offline=true", "--threshold=30", str(tmp_path / HELPER.name))
    assert done.returncode == 0, done.stdout[-3000:]


def test_supervision_settings() -> None:
    unit = directives(AGENT)
    assert unit["Type"] == ["notify"]
    assert unit["NotifyAccess"] == ["main"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["Restart"] == ["on-failure"]
    assert float(unit["RestartSec"][0]) >= 2
    assert int(unit["WatchdogSec"][0]) >= 10
    # Wider than the 5 starts / 10 s default that gives up after half a second of looping.
    assert int(unit["StartLimitIntervalSec"][0]) >= 60
    burst = int(unit["StartLimitBurst"][0])
    assert burst * float(unit["RestartSec"][0]) < int(unit["StartLimitIntervalSec"][0])
    no_retry = unit["RestartPreventExitStatus"][0].split()
    assert str(int(ExitCode.CONFIG)) in no_retry
    assert str(int(ExitCode.UNAVAILABLE)) not in no_retry  # a broker outage is retried
    for key in ("StateDirectory", "CacheDirectory", "LogsDirectory", "ConfigurationDirectory"):
        assert unit[key] == ["edge-agent"]


def test_privileges_and_devices() -> None:
    unit = directives(AGENT)
    assert unit["User"] == ["edge-agent"]
    assert unit["SupplementaryGroups"] == ["video"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["PrivateDevices"] == ["no"] and unit["DevicePolicy"] == ["closed"]
    allowed = {value.split()[0] for value in unit["DeviceAllow"]}
    assert {"/dev/nvhost-ctrl", "/dev/nvhost-ctrl-gpu", "/dev/nvhost-gpu", "/dev/nvmap"} <= allowed
    assert {"/dev/nvgpu/igpu0/ctrl", "/dev/nvgpu/igpu0/channel", "/dev/nvgpu/igpu0/as"} <= allowed
    assert {"/dev/nvhost-nvdla0", "/dev/nvhost-nvdla1", "char-video4linux"} <= allowed
    # JetPack 6 on Orin: CUDA also opens the display driver's nodes and the DRM render node
    assert {"/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia-modeset",
            "/dev/dri/renderD128", "char-drm"} <= allowed
    assert not any("*" in path for path in allowed if path.startswith("/dev/"))  # no globs
    assert "ExecStartPre" not in unit  # nothing runs as root before the agent
    helper = directives(HELPER)
    assert helper["Type"] == ["oneshot"]
    assert "-I -m edge_agent.powermode.apply" in helper["ExecStart"][0]
    assert helper["PrivateNetwork"] == ["yes"]


def test_only_keys_old_systemd_understands() -> None:
    for unit in sorted(UNITS.glob("*.service")) + sorted(UNITS.glob("*.path")):
        found = directives(unit)
        newer = {key for key in found if key in NEWER_THAN_245}
        assert newer <= HARMLESS_IF_IGNORED, f"{unit.name}: {newer}"
        assert found.get("Type", ["simple"]) != ["notify-reload"]  # systemd 253+
        assert "MONOTONIC_USEC" not in unit.read_text(encoding="utf-8")
