"""Model manifests: the reviewed, per-model data file that says what a model file must look like.

Tensor names, dtypes, shapes, labels and preprocessing of each NGC model live in
`engines/models/<name>.toml`, next to comments citing where each fact comes from, so a wrong fact
is fixed by editing data that a reviewer can check against the source, not code. This module
parses them strictly (unknown keys are errors, so a typo cannot silently drop a fact) and turns
the tensor tables into the `TensorSpec`s that backends and contract checks speak.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import Literal

from edge_agent.errors import ConfigError, ModelContractError
from edge_agent.models.tensor_spec import Dim, TensorSpec

MANIFEST_SUFFIX = ".toml"
# A model file `<name>.onnx` is vouched for by `<name>.manifest.json` (see models.store).
SIDECAR_SUFFIX = ".manifest.json"

# numpy dtype names a manifest may use; matches what ONNX Runtime and TensorRT can bind.
KNOWN_DTYPES = (
    "float32",
    "float16",
    "float64",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
)

Family = Literal[
    "semseg", "peoplenet", "reid", "bodypose3d", "poseclass", "segic", "segic_prompt",
    "human_parts",
]


class TensorEntry(BaseModel):
    """One `[[inputs]]` or `[[outputs]]` table: a tensor the model file must declare."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    dtypes: List[str] = Field(min_length=1)
    shape: List[Union[int, str]] = Field(min_length=1)
    layout: str = ""

    @field_validator("dtypes")
    @classmethod
    def _known_dtypes(cls, dtypes: List[str]) -> List[str]:
        unknown = [d for d in dtypes if d not in KNOWN_DTYPES]
        if unknown:
            raise ValueError(f"unknown dtype(s) {unknown}; use numpy names {list(KNOWN_DTYPES)}")
        return dtypes

    @field_validator("shape")
    @classmethod
    def _valid_dims(cls, shape: List[Union[int, str]]) -> List[Union[int, str]]:
        for dim in shape:
            if isinstance(dim, int) and dim <= 0:
                raise ValueError(f"fixed dimension {dim} must be positive")
            if isinstance(dim, str) and not dim.isidentifier():
                raise ValueError(f"symbolic dimension {dim!r} must be a name such as 'N'")
        return shape

    def spec(self) -> TensorSpec:
        """The backend-neutral contract of this tensor."""
        dims: Tuple[Dim, ...] = tuple(self.shape)
        return TensorSpec(
            name=self.name, dtypes=tuple(self.dtypes), shape=dims, layout=self.layout
        )


class Preprocess(BaseModel):
    """How a frame becomes the input tensor: y = scale * (x - offsets[c]) after colour + resize.

    `resize="letterbox_pad"` keeps the aspect ratio and pads right/bottom with `pad_value`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    color: Literal["BGR", "RGB"]
    scale: float = Field(gt=0)
    offsets: List[float] = Field(min_length=3, max_length=3)
    resize: Literal["stretch", "letterbox_pad"]
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    pad_value: float = 0.0


class ModelManifest(BaseModel):
    """Everything edge-agent knows about one NGC model, as reviewed data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    family: Family
    title: str
    ngc_model: str
    ngc_version: str
    file: str = Field(min_length=1)
    url: str
    sha256: str = Field(pattern=r"^([0-9a-f]{64})?$")
    # The INT8 calibration cache NVIDIA ships with a quantized release ('' = none published).
    calibration_url: str = ""
    labels: List[str]
    max_batch: int = Field(gt=0)
    inputs: List[TensorEntry] = Field(min_length=1)
    outputs: List[TensorEntry] = Field(min_length=1)
    preprocess: Optional[Preprocess] = None

    def input_specs(self) -> Tuple[TensorSpec, ...]:
        """Inputs as TensorSpecs, in manifest order."""
        return tuple(t.spec() for t in self.inputs)

    def output_specs(self) -> Tuple[TensorSpec, ...]:
        """Outputs as TensorSpecs, in manifest order."""
        return tuple(t.spec() for t in self.outputs)


def manifest_dirs(manifest_dir: Optional[Path] = None) -> List[Path]:
    """Directories searched for `<name>.toml`, first match wins.

    An explicit directory (tests, a site override) comes first; then the copy that setup.cfg's
    data_files installs under the interpreter prefix; then the source checkout, so the agent
    runs from a git clone without being installed.
    """
    dirs: List[Path] = []
    if manifest_dir is not None:
        dirs.append(Path(manifest_dir))
    dirs.append(Path(sys.prefix) / "share" / "edge-agent" / "engines" / "models")
    dirs.append(Path(__file__).resolve().parents[2] / "engines" / "models")
    return dirs


def known_model_names(manifest_dir: Optional[Path] = None) -> List[str]:
    """Sorted names of every manifest found in any search directory."""
    names: Set[str] = set()
    for directory in manifest_dirs(manifest_dir):
        if directory.is_dir():
            names.update(p.stem for p in directory.glob(f"*{MANIFEST_SUFFIX}"))
    return sorted(names)


def find_manifest_path(name: str, manifest_dir: Optional[Path] = None) -> Path:
    """Path of the first `<name>.toml` in the search order; ConfigError listing names if none."""
    for directory in manifest_dirs(manifest_dir):
        candidate = directory / f"{name}{MANIFEST_SUFFIX}"
        if candidate.is_file():
            return candidate
    known = ", ".join(known_model_names(manifest_dir)) or "(none found)"
    searched = ", ".join(str(d) for d in manifest_dirs(manifest_dir))
    raise ConfigError(
        f"unknown model {name!r}: no {name}{MANIFEST_SUFFIX} in {searched}",
        f"use one of: {known}",
    )


def load_manifest(name: str, manifest_dir: Optional[Path] = None) -> ModelManifest:
    """Load and validate the manifest of model `name` (see `manifest_dirs` for where)."""
    path = find_manifest_path(name, manifest_dir)
    manifest = parse_manifest_file(path)
    if manifest.name != path.stem:
        raise ModelContractError(
            f"{path}: name = {manifest.name!r} does not match the file name {path.stem!r}",
            f"set name = {path.stem!r} in {path} or rename the file",
        )
    return manifest


def parse_manifest_file(path: Path) -> ModelManifest:
    """Parse one manifest file; any syntax or schema problem names the file and the field."""
    try:
        data = _parse_toml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read model manifest {path}: {exc}", "check the path") from exc
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ModelContractError(
            f"model manifest {path} is not valid TOML: {exc}", "fix the syntax at that line"
        ) from exc
    return manifest_from_dict(data, str(path))


def manifest_from_dict(data: Dict[str, Any], source: str) -> ModelManifest:
    """Validate already-parsed manifest data (TOML or a stand-in's JSON sidecar)."""
    try:
        return ModelManifest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ModelContractError(
            f"model manifest {source} is invalid: {problems}",
            "correct those fields (see engines/models/*.toml for the schema)",
        ) from exc


def _parse_toml(text: str) -> Dict[str, Any]:
    """tomllib on 3.11+, its backport tomli (a declared dependency) on 3.8-3.10.

    Imported by name so that neither mypy (checking as 3.8) nor vermin trips on the other one.
    """
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    data: Dict[str, Any] = toml.loads(text)
    return data
