"""Device profiles: reviewed data in engines/devices/*.toml saying how to run each model here.

A profile names the device kinds it serves and, per model, the precision, DLA placement, batch
and optimization profile, workspace, plus the semseg variant and default rates per power mode.
Selection is pure: an identified device gets its own profile; an unidentified Jetson gets the
profile marked `conservative = true` (and the caller is told so); x86 and CPU-only hosts get
theirs. Like model manifests, unknown keys are errors so a typo cannot silently drop a setting.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import Literal

from edge_agent.device.identity import DeviceIdentity
from edge_agent.errors import ConfigError

Precision = Literal["fp32", "fp16", "int8"]


class ModelProfile(BaseModel):
    """How one model is built on this device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    precision: Precision = Field(
        "fp16", description="int8 is used only with a calibration cache; otherwise fp16.")
    dla_core: int = Field(-1, ge=-1, le=1, description="DLA core, -1 = GPU only.")
    gpu_fallback: bool = True
    batch_min: int = Field(1, ge=1)
    batch_opt: int = Field(1, ge=1)
    batch_max: int = Field(1, ge=1)
    workspace_mib: Optional[int] = Field(None, gt=0)

    @model_validator(mode="after")
    def _batches_ordered(self) -> ModelProfile:
        if not self.batch_min <= self.batch_opt <= self.batch_max:
            raise ValueError("need batch_min <= batch_opt <= batch_max")
        return self


class DeviceProfile(BaseModel):
    """Everything edge-agent decides per device, as reviewed data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    title: str
    device_kinds: List[str]
    conservative: bool = False
    backend: Literal["tensorrt", "onnxruntime"] = "tensorrt"
    semseg_variant: Literal["shuffleseg", "vanilla_unet"] = "shuffleseg"
    workspace_mib: int = Field(256, gt=0)
    semseg_rate_hz: float = Field(2.0, ge=0)
    # Power-mode name (as in nvpmodel.conf) → semseg rate in Hz; other modes use semseg_rate_hz.
    rates_by_power_mode: Dict[str, float] = Field(default_factory=dict)
    models: Dict[str, ModelProfile] = Field(default_factory=dict)

    def model(self, name: str) -> ModelProfile:
        """The model's settings; a model the profile does not list gets safe defaults."""
        return self.models.get(name, ModelProfile())

    def semseg_rate_for(self, power_mode_name: str) -> float:
        """Default semseg rate for the current power mode."""
        lookup = {k.upper(): v for k, v in self.rates_by_power_mode.items()}
        return lookup.get(power_mode_name.upper(), self.semseg_rate_hz)


@dataclass(frozen=True)
class ProfileChoice:
    """The chosen profile and, in words, why; `fallback` when the device was not recognised."""

    profile: DeviceProfile
    reason: str
    fallback: bool


def profile_dirs(profile_dir: Optional[Path] = None) -> List[Path]:
    """Search order as for model manifests: explicit, installed data_files, source checkout."""
    dirs = [Path(profile_dir)] if profile_dir is not None else []
    dirs.append(Path(sys.prefix) / "share" / "edge-agent" / "engines" / "devices")
    dirs.append(Path(__file__).resolve().parents[2] / "engines" / "devices")
    return dirs


def load_profiles(profile_dir: Optional[Path] = None) -> Dict[str, DeviceProfile]:
    """Every profile by name; the first directory holding a name wins."""
    profiles: Dict[str, DeviceProfile] = {}
    for directory in profile_dirs(profile_dir):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            if path.stem not in profiles:
                profiles[path.stem] = parse_profile_file(path)
    return profiles


def _parse_toml(text: str) -> Dict[str, object]:
    """tomllib on 3.11+, the tomli backport before (imported by name for mypy and vermin)."""
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    data: Dict[str, object] = toml.loads(text)
    return data


def parse_profile_file(path: Path) -> DeviceProfile:
    """One profile file; a syntax or schema problem names the file and the field."""
    try:
        data = _parse_toml(path.read_text(encoding="utf-8"))
        profile = DeviceProfile.model_validate(data)
    except (OSError, ValueError) as exc:  # TOMLDecodeError and ValidationError are ValueErrors
        detail = exc if not isinstance(exc, ValidationError) else "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"device profile {path} is invalid: {detail}",
                          "fix that field (see docs/engines.md)") from exc
    if profile.name != path.stem:
        raise ConfigError(f"{path}: name = {profile.name!r} does not match the file name",
                          f"set name = {path.stem!r}")
    return profile


def select_profile(identity: DeviceIdentity, profiles: Dict[str, DeviceProfile],
                   override: str = "") -> ProfileChoice:
    """Pick the profile for `identity` (or the one named by `override`)."""
    if override:
        if override not in profiles:
            raise ConfigError(f"unknown device profile {override!r}",
                              f"use one of: {', '.join(sorted(profiles))}")
        return ProfileChoice(profiles[override], f"profile {override!r} chosen explicitly", False)
    for profile in profiles.values():
        if identity.kind in profile.device_kinds and not profile.conservative:
            return ProfileChoice(profile, f"{identity.device_id} matches profile "
                                 f"{profile.name!r}", False)
    conservative = [p for p in profiles.values() if p.conservative]
    if not conservative:
        raise ConfigError("no device profile has conservative = true",
                          "restore engines/devices/conservative.toml")
    chosen = conservative[0]
    detail = ", ".join(identity.compatible) or identity.kind
    return ProfileChoice(
        chosen,
        f"unknown device ({detail}): using the conservative profile {chosen.name!r} "
        f"({chosen.title})",
        True,
    )
