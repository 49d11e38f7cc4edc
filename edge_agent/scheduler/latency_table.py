"""Seed latencies: engines/latency/<device>.toml, every number with its source.

A table holds each engine's latency per batch at the *reference* power mode (the mode the
published figure was measured in) and, per power mode, the GPU clock cap and active TPCs and the
DLA clock cap. Scaling a figure to another mode divides by the mode's share of the reference
capacity: inference on these GPUs is compute-bound, so time follows TPCs x clock. That is an
approximation (memory-bound layers scale less), which is why the agent measures every engine
online and trusts its measurements over these seeds (latency_model.py).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import Literal

from edge_agent.errors import ConfigError

Resource = Literal["gpu", "dla", "cpu"]

# Launch overhead in "items" when a card gives a single batch point: fitted to the
# ReIdentificationNet card's AGX Orin FP16 BS1 / BS16 points (0.596 ms fixed + 0.364 ms/image).
DEFAULT_FIXED_ITEMS = 1.64


class GpuSpec(BaseModel):
    """The GPU at the reference mode: TPCs and clock the published figures were measured at."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tpcs: int = Field(1, ge=1)
    reference_mhz: float = Field(gt=0)
    source: str = Field(min_length=1)
    estimate: bool = False


class DlaSpec(BaseModel):
    """DLA reference clock; absent → DLA latencies follow the GPU clock factor (an estimate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_mhz: Optional[float] = Field(None, gt=0)
    source: str = Field(min_length=1)
    estimate: bool = False


class ModeSpec(BaseModel):
    """One power mode's caps, as its nvpmodel conf sets them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu_mhz: float = Field(gt=0)
    gpu_tpcs: Optional[int] = Field(None, ge=1)
    dla_mhz: Optional[float] = Field(None, gt=0)
    source: str = Field(min_length=1)
    estimate: bool = False


class EngineSeed(BaseModel):
    """Published latency points of one engine on one resource kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    resource: Resource
    precision: str
    points_ms: List[Tuple[int, float]] = Field(default_factory=list)
    fps: List[Tuple[int, float]] = Field(default_factory=list)
    scale: float = Field(1.0, gt=0)
    fixed_items: float = Field(DEFAULT_FIXED_ITEMS, ge=0)
    source: str = Field(min_length=1)
    estimate: bool = False

    @model_validator(mode="after")
    def _has_points(self) -> EngineSeed:
        if not self.points_ms and not self.fps:
            raise ValueError("needs points_ms = [[batch, ms], ...] or fps = [[batch, fps], ...]")
        for batch, value in (*self.points_ms, *self.fps):
            if batch < 1 or value <= 0:
                raise ValueError(f"point [{batch}, {value}]: batch >= 1 and value > 0 needed")
        return self

    def batch_points_ms(self) -> List[Tuple[int, float]]:
        """(batch, latency of the whole batch in ms) at the reference mode, scaled."""
        points = [(b, ms) for b, ms in self.points_ms]
        points += [(b, 1000.0 * b / fps) for b, fps in self.fps]
        return sorted((b, ms * self.scale) for b, ms in points)

    def line(self) -> Tuple[float, float]:
        """(fixed_ms, per_item_ms): least squares over the points, or the one-point rule."""
        points = self.batch_points_ms()
        if len({b for b, _ in points}) == 1:
            batch, ms = points[0]
            per_item = ms / (batch + self.fixed_items)
            return per_item * self.fixed_items, per_item
        n = float(len(points))
        mean_b = sum(b for b, _ in points) / n
        mean_ms = sum(ms for _, ms in points) / n
        var = sum((b - mean_b) ** 2 for b, _ in points)
        slope = sum((b - mean_b) * (ms - mean_ms) for b, ms in points) / var
        fixed = mean_ms - slope * mean_b
        if fixed < 0 or slope <= 0:  # a curve the line cannot follow: no fixed part
            return 0.0, mean_ms / mean_b
        return fixed, slope


class LatencyTable(BaseModel):
    """All seeds of one device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = Field(min_length=1)
    reference_mode: str
    gpu: GpuSpec
    dla: Optional[DlaSpec] = None
    modes: Dict[str, ModeSpec]
    engines: List[EngineSeed] = Field(default_factory=list)

    @model_validator(mode="after")
    def _reference_known(self) -> LatencyTable:
        if self.reference_mode not in self.modes:
            raise ValueError(f"reference_mode {self.reference_mode!r} is not under [modes]")
        return self

    def mode(self, name: str) -> Optional[ModeSpec]:
        """The mode called `name` (case-insensitive), None when the table does not know it."""
        wanted = name.upper()
        return next((m for key, m in self.modes.items() if key.upper() == wanted), None)

    def seed(self, model: str, resource: str) -> Optional[EngineSeed]:
        """The seed for `model` on `resource` ('dla0'/'dla1' use the 'dla' entry)."""
        kind = "dla" if resource.startswith("dla") else resource
        return next((e for e in self.engines if e.model == model and e.resource == kind), None)

    def gpu_capacity(self, mode: ModeSpec, gpu_mhz: Optional[float] = None) -> float:
        """The mode's GPU throughput relative to the reference (1.0 = as measured)."""
        tpcs = mode.gpu_tpcs if mode.gpu_tpcs is not None else self.gpu.tpcs
        mhz = min(mode.gpu_mhz, gpu_mhz) if gpu_mhz is not None else mode.gpu_mhz
        return (tpcs * mhz) / (self.gpu.tpcs * self.gpu.reference_mhz)

    def dla_capacity(self, mode: ModeSpec) -> float:
        """The mode's DLA throughput relative to the reference; follows the GPU clock if unknown."""
        if self.dla is None or self.dla.reference_mhz is None or mode.dla_mhz is None:
            return mode.gpu_mhz / self.gpu.reference_mhz
        return mode.dla_mhz / self.dla.reference_mhz


@dataclass(frozen=True)
class Seeded:
    """A seed latency for one batch at one mode, and whether it rests on an estimate."""

    latency_ms: float
    estimate: bool
    source: str


def seed_latency_ms(table: LatencyTable, model: str, resource: str, batch: int,
                    mode_name: str, gpu_mhz: Optional[float] = None) -> Optional[Seeded]:
    """Seed latency of one call with `batch` items at `mode_name`; None when not known."""
    seed = table.seed(model, resource)
    mode = table.mode(mode_name)
    if seed is None or mode is None or batch < 1:
        return None
    fixed, per_item = seed.line()
    at_reference = fixed + per_item * batch
    if resource.startswith("dla"):
        capacity = table.dla_capacity(mode)
    elif resource == "gpu":
        capacity = table.gpu_capacity(mode, gpu_mhz)
    else:
        capacity = 1.0
    estimate = seed.estimate or mode.estimate or table.gpu.estimate
    return Seeded(at_reference / capacity, estimate, seed.source)


def latency_dirs(table_dir: Optional[Path] = None) -> List[Path]:
    """Search order as for device profiles: explicit, installed data_files, source checkout."""
    dirs = [Path(table_dir)] if table_dir is not None else []
    dirs.append(Path(sys.prefix) / "share" / "edge-agent" / "engines" / "latency")
    dirs.append(Path(__file__).resolve().parents[2] / "engines" / "latency")
    return dirs


def parse_latency_file(path: Path) -> LatencyTable:
    """One table; a syntax or schema problem names the file and the field."""
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        table = LatencyTable.model_validate(toml.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        detail = exc if not isinstance(exc, ValidationError) else "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"latency table {path} is invalid: {detail}",
                          "fix that field (see engines/latency/README.md)") from exc
    if table.device != path.stem:
        raise ConfigError(f"{path}: device = {table.device!r} does not match the file name",
                          f"set device = {path.stem!r}")
    return table


def load_latency_tables(table_dir: Optional[Path] = None) -> Dict[str, LatencyTable]:
    """Every table by device profile name; the first directory holding a name wins."""
    tables: Dict[str, LatencyTable] = {}
    for directory in latency_dirs(table_dir):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                if path.stem not in tables:
                    tables[path.stem] = parse_latency_file(path)
    return tables
