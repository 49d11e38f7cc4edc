"""Calibration recipes: how one model is calibrated and how strict its gate is.

A recipe is data (`calibration/recipes/<model>.toml`) so that the numbers a reviewer signs off
(method, sample counts, which op types run in INT8, the gate's thresholds) live next to the
caches they produced, and a re-run reproduces them. Missing keys take the defaults below; an
unknown key is an error, so a typo cannot silently drop a threshold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import Literal

from edge_agent.calibration.gate import GateThresholds
from edge_agent.errors import ConfigError

RECIPES_DIR = "recipes"
# Op types whose inputs get Q/DQ by default: the compute-heavy layers TensorRT runs in INT8
# (convolutions, matrix products) and the cheap ops between them that keep tensors in INT8
# (pooling, residual Add, Concat, Resize, activations). Elementwise Mul is left out: in
# detection heads it often scales coordinates by large constants, where one INT8 step is many
# pixels.
DEFAULT_OP_TYPES = ("Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "MaxPool", "AveragePool",
                    "GlobalAveragePool", "Concat", "Resize", "Relu", "Clip", "Sigmoid")


class Recipe(BaseModel):
    """Everything a calibration run of one model needs besides its footage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["entropy", "percentile", "minmax"] = "entropy"
    samples: int = Field(64, ge=1, description="calibration frames (crops for crop models)")
    held_out: int = Field(16, ge=1, description="frames kept aside for the accuracy gate")
    op_types: List[str] = Field(default_factory=lambda: list(DEFAULT_OP_TYPES), min_length=1)
    nodes_to_exclude: List[str] = Field(default_factory=list)
    per_channel: bool = True
    percentile: float = Field(99.999, gt=50.0, le=100.0)
    crops_per_frame: int = Field(4, ge=1)
    gate: GateThresholds = Field(default_factory=GateThresholds)


def recipe_path(root: Path, model_name: str) -> Path:
    """`<root>/recipes/<model>.toml`."""
    return Path(root) / RECIPES_DIR / f"{model_name}.toml"


def load_recipe(root: Path, model_name: str, overrides: Optional[Dict[str, Any]] = None
                ) -> Recipe:
    """The model's recipe file (defaults when absent) with command-line overrides on top."""
    from edge_agent.settings.config_file import read_toml

    path = recipe_path(root, model_name)
    data: Dict[str, Any] = read_toml(path) if path.is_file() else {}
    overrides = dict(overrides or {})
    gate_overrides = overrides.pop("gate", {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    if gate_overrides:
        data["gate"] = {**data.get("gate", {}), **gate_overrides}
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        where = str(path) if path.is_file() else "the command line"
        raise ConfigError(f"calibration recipe for {model_name} ({where}) is invalid: "
                          f"{problems}", f"fix {where}") from None
