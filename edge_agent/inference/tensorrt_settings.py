"""TensorRT build settings, decided in pure code from the device profile and what TensorRT reports.

Nothing here imports tensorrt: the inputs are the profile's wishes (engines/devices/*.toml), the
model manifest (tensor shapes, max batch) and `TrtCapabilities` (what the builder reported:
fast FP16/INT8, DLA cores, version). Every downgrade is recorded in `notes`, so `engines build`
and the log say *why* an engine is FP16 rather than INT8, or on the GPU rather than a DLA.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from edge_agent.device.profiles import DeviceProfile
from edge_agent.models.manifest import ModelManifest

MIB = 1 << 20
Shape = Tuple[int, ...]


@dataclass(frozen=True)
class TrtCapabilities:
    """What the TensorRT builder on this machine reports (or a FAKE says in tests)."""

    version: str
    fast_fp16: bool
    fast_int8: bool
    dla_cores: int

    @property
    def major_minor(self) -> Tuple[int, int]:
        """(major, minor) of the version; (0, 0) when it cannot be parsed."""
        parts = self.version.split(".")
        try:
            return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
        except ValueError:
            return 0, 0

    @property
    def dla_supported(self) -> bool:
        """DLA usable with this TensorRT: 10.7 was the last 10.x with DLA, 11.0–11.3 had none
        (jetson-facts.md §4, TensorRT 11.4.1 "Working with DLA")."""
        major, minor = self.major_minor
        if major == 10:
            return minor <= 7
        if major == 11:
            return minor >= 4
        return True


@dataclass(frozen=True)
class InputProfile:
    """Optimization profile of one input: min/opt/max shapes with the batch first."""

    name: str
    min_shape: Shape
    opt_shape: Shape
    max_shape: Shape


@dataclass(frozen=True)
class BuildSettings:
    """Exactly what the thin TensorRT module is told to build."""

    model_name: str
    precision: str  # "fp32" | "fp16" | "int8"
    dla_core: int  # -1 = GPU only
    gpu_fallback: bool
    workspace_bytes: int
    batch_max: int
    inputs: Tuple[InputProfile, ...]
    batch_min: int = 1
    batch_opt: int = 1
    calibration_cache: Optional[Path] = None
    calibration_sha256: str = ""
    notes: Tuple[str, ...] = field(default_factory=tuple)


def calibration_hash(path: Optional[Path]) -> str:
    """sha256 of an INT8 calibration cache, '' for none."""
    if path is None:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _input_profiles(manifest: ModelManifest, batch: Tuple[int, int, int]) -> Tuple[
        Tuple[InputProfile, ...], int]:
    """Shapes per input; a fixed batch dimension in the manifest pins the batch to it."""
    low, opt, high = batch
    for entry in manifest.inputs:
        if isinstance(entry.shape[0], int):
            low = opt = high = entry.shape[0]
    profiles: List[InputProfile] = []
    for entry in manifest.inputs:
        rest = entry.shape[1:]
        if any(not isinstance(dim, int) for dim in rest):
            raise ValueError(f"{manifest.name}: input {entry.name} has a symbolic non-batch "
                             f"dimension {entry.shape}; give it a size in the manifest")
        dims = tuple(int(d) for d in rest)
        profiles.append(InputProfile(entry.name, (low,) + dims, (opt,) + dims, (high,) + dims))
    return tuple(profiles), high


def decide_build_settings(profile: DeviceProfile, manifest: ModelManifest,
                          caps: TrtCapabilities,
                          calibration_cache: Optional[Path] = None) -> BuildSettings:
    """Profile wishes reconciled with the model and the hardware, every downgrade noted."""
    wish = profile.model(manifest.name)
    notes: List[str] = []
    precision = wish.precision
    has_cache = calibration_cache is not None and Path(calibration_cache).is_file()
    if precision == "int8" and not has_cache:
        notes.append("int8 requested but no calibration cache: using fp16")
        precision = "fp16"
    elif precision == "int8" and not caps.fast_int8:
        notes.append("int8 requested but this GPU has no fast INT8: using fp16")
        precision = "fp16"
    if precision == "fp16" and not caps.fast_fp16:
        notes.append("fp16 requested but this GPU has no fast FP16: using fp32")
        precision = "fp32"
    dla_core = wish.dla_core
    if dla_core >= 0:
        reason = ""
        if dla_core >= caps.dla_cores:
            reason = f"DLA core {dla_core} requested but the device reports {caps.dla_cores}"
        elif not caps.dla_supported:
            reason = f"TensorRT {caps.version} has no DLA support"
        elif precision == "fp32":
            reason = "the DLA runs only fp16/int8"
        if reason:
            notes.append(f"{reason}: building for the GPU")
            dla_core = -1
    batch_max = min(wish.batch_max, manifest.max_batch)
    if batch_max < wish.batch_max:
        notes.append(f"batch_max {wish.batch_max} capped to the model's max_batch {batch_max}")
    batch = (min(wish.batch_min, batch_max), min(wish.batch_opt, batch_max), batch_max)
    if dla_core >= 0 and (batch[0] != batch_max or batch[1] != batch_max):
        # "DLA layer restrictions" (TensorRT developer guide, Working with DLA): a DLA
        # engine needs min == opt == max in its profile; with a range TensorRT silently runs
        # every layer on the GPU. So the batch is fixed and short batches are padded.
        notes.append(f"DLA needs a static shape: batch fixed at {batch_max} (was "
                     f"{batch[0]}..{batch_max}); shorter batches are padded")
        batch = (batch_max, batch_max, batch_max)
    inputs, batch_max = _input_profiles(manifest, batch)
    batch_min, batch_opt = inputs[0].min_shape[0], inputs[0].opt_shape[0]
    workspace_mib = wish.workspace_mib or profile.workspace_mib
    use_cache = calibration_cache if precision == "int8" else None
    return BuildSettings(
        model_name=manifest.name,
        precision=precision,
        dla_core=dla_core,
        gpu_fallback=wish.gpu_fallback or dla_core < 0,
        workspace_bytes=workspace_mib * MIB,
        batch_max=batch_max,
        inputs=inputs,
        batch_min=batch_min,
        batch_opt=batch_opt,
        calibration_cache=use_cache,
        calibration_sha256=calibration_hash(use_cache),
        notes=tuple(notes),
    )


def describe(settings: BuildSettings) -> Dict[str, object]:
    """A JSON-friendly summary for logs and `engines build`."""
    return {
        "model": settings.model_name, "precision": settings.precision,
        "dla_core": settings.dla_core, "gpu_fallback": settings.gpu_fallback,
        "workspace_mib": settings.workspace_bytes // MIB, "batch_min": settings.batch_min,
        "batch_opt": settings.batch_opt, "batch_max": settings.batch_max,
        "inputs": {i.name: [list(i.min_shape), list(i.opt_shape), list(i.max_shape)]
                   for i in settings.inputs},
        "notes": list(settings.notes),
    }
