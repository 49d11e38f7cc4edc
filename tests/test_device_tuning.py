"""'auto' settings resolved from the device profile; explicit values always win."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from jetson_tree import agx_orin_tree, nano_tree, write

from edge_agent.device.tuning import resolve_settings, semseg_rate_hz
from edge_agent.settings import AgentSettings


def settings(**semseg: object) -> AgentSettings:
    return AgentSettings(models={"semseg": semseg})


def test_auto_on_agx_orin_takes_vanilla_and_the_power_mode_rate(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    root = agx_orin_tree(tmp_path)  # nvpmodel status: mode 2 = MODE_30W
    resolved = resolve_settings(settings(variant="auto", rate_hz="auto"), root)
    assert resolved.models.semseg.variant == "vanilla_unet"
    assert semseg_rate_hz(resolved) == 8.5  # engines/devices/agx_orin.toml MODE_30W
    line = caplog.records[-1].getMessage()
    assert "device profile 'agx_orin'" in line and "power mode MODE_30W" in line
    assert "semseg variant auto -> vanilla_unet" in line


def test_power_mode_change_changes_the_auto_rate(tmp_path: Path) -> None:
    root = agx_orin_tree(tmp_path, status="pmode:0001\n")  # MODE_15W
    assert semseg_rate_hz(resolve_settings(settings(rate_hz="auto"), root)) == 4.0


def test_auto_on_nano_takes_shuffleseg_and_the_default_rate(tmp_path: Path) -> None:
    resolved = resolve_settings(settings(variant="auto", rate_hz="auto"), nano_tree(tmp_path))
    assert resolved.models.semseg.variant == "shuffleseg"
    assert semseg_rate_hz(resolved) == 15.0  # no nvpmodel status in the tree: profile default


def test_explicit_values_win(tmp_path: Path) -> None:
    root = agx_orin_tree(tmp_path)
    explicit = settings(variant="shuffleseg", rate_hz=0)
    assert resolve_settings(explicit, root) is explicit
    mixed = resolve_settings(settings(variant="shuffleseg", rate_hz="auto"), root)
    assert mixed.models.semseg.variant == "shuffleseg" and semseg_rate_hz(mixed) == 8.5


def test_unknown_jetson_gets_the_conservative_profile_named(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, "/proc/device-tree/compatible", "nvidia,p4071-0000+p3834-0008\0"
          "nvidia,tegra264\0")
    resolved = resolve_settings(settings(variant="auto", rate_hz="auto"), tmp_path)
    assert resolved.models.semseg.variant == "shuffleseg" and semseg_rate_hz(resolved) == 1.0
    warning = [r for r in caplog.records if r.levelno == logging.WARNING][-1].getMessage()
    assert "unknown device" in warning and "'conservative'" in warning


def test_profile_override_from_config(tmp_path: Path) -> None:
    chosen = AgentSettings(device={"profile": "nano"}, models={"semseg": {"variant": "auto"}})
    assert resolve_settings(chosen, agx_orin_tree(tmp_path)).models.semseg.variant == (
        "shuffleseg")


def test_unresolved_auto_rate_is_a_bug_not_a_number() -> None:
    with pytest.raises(RuntimeError):
        semseg_rate_hz(settings(rate_hz="auto"))
