"""Profile files parse, every device kind has a profile, selection and its fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.device.identity import JETSON_KINDS, DeviceIdentity
from edge_agent.device.profiles import load_profiles, parse_profile_file, select_profile
from edge_agent.errors import ConfigError
from edge_agent.models.manifest import known_model_names


def test_every_kind_has_exactly_one_profile() -> None:
    profiles = load_profiles()
    for kind in (*JETSON_KINDS, "x86_gpu", "cpu"):
        matches = [p.name for p in profiles.values() if kind in p.device_kinds]
        assert len(matches) == 1, (kind, matches)
    assert [p.name for p in profiles.values() if p.conservative] == ["conservative"]


def test_profiles_name_only_known_models_and_follow_the_issue() -> None:
    profiles = load_profiles()
    models = set(known_model_names())
    for profile in profiles.values():
        assert set(profile.models) <= models, profile.name
    nano = profiles["nano"]
    assert nano.semseg_variant == "shuffleseg"
    assert all(m.precision == "fp16" and m.dla_core < 0 for m in nano.models.values())
    assert profiles["agx_orin"].semseg_variant == "vanilla_unet"
    assert profiles["agx_orin"].model("peoplenet").dla_core == 0
    assert profiles["orin_nano"].model("peoplenet").dla_core == -1  # Orin Nano has no DLA


def test_rates_by_power_mode() -> None:
    orin = load_profiles()["agx_orin"]
    assert orin.semseg_rate_for("MODE_15W") == 4.0
    assert orin.semseg_rate_for("maxn") == 15.0
    assert orin.semseg_rate_for("UNKNOWN_MODE") == orin.semseg_rate_hz


def test_known_device_selects_its_profile() -> None:
    choice = select_profile(DeviceIdentity(kind="orin_nano", module="p3767-0005"),
                            load_profiles())
    assert choice.profile.name == "orin_nano" and not choice.fallback


def test_unknown_jetson_gets_conservative_profile_and_is_told() -> None:
    identity = DeviceIdentity(kind="unknown_jetson",
                              compatible=("nvidia,p4071-0000+p3834-0008", "nvidia,tegra264"))
    choice = select_profile(identity, load_profiles())
    assert choice.fallback and choice.profile.name == "conservative"
    assert "unknown device" in choice.reason and "p3834-0008" in choice.reason
    assert "conservative" in choice.reason


def test_override_and_unknown_override() -> None:
    profiles = load_profiles()
    assert select_profile(DeviceIdentity(kind="cpu"), profiles, "nano").profile.name == "nano"
    with pytest.raises(ConfigError, match="unknown device profile"):
        select_profile(DeviceIdentity(kind="cpu"), profiles, "nope")


def test_invalid_profile_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ntitle = ""\ndevice_kinds = []\n'
                    '[models.x]\nbatch_min = 4\nbatch_max = 2\nprecsion = "fp16"\n')
    with pytest.raises(ConfigError, match="models.x"):
        parse_profile_file(path)
