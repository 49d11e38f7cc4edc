"""The model store: a directory of `<name>.onnx` files, each vouched for by a JSON sidecar.

A model file alone says nothing about which contract it was built for or whether it is the file
someone reviewed. The sidecar `<name>.manifest.json` (written by `edge-agent models standin`
for stand-ins, or by hand next to a real NGC download) carries the manifest data plus the file's
sha256; loading refuses a file whose hash differs, so a truncated download or a swapped file
fails at start-up with both hashes printed instead of producing wrong detections later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict

from edge_agent.errors import InputNotFoundError, ModelContractError
from edge_agent.models.manifest import SIDECAR_SUFFIX, ModelManifest, manifest_from_dict

_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelRecord:
    """A model file on disk whose hash matches its sidecar."""

    name: str
    onnx_path: Path
    manifest: ModelManifest
    sha256: str
    standin: bool


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so large models need no large buffer."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_model_record(models_dir: Path, name: str) -> ModelRecord:
    """Find, verify and describe model `name` in `models_dir`.

    Raises InputNotFoundError when the onnx is missing, ModelContractError when the sidecar is
    missing or invalid or when the file's sha256 differs from the recorded one.
    """
    onnx_path = Path(models_dir) / f"{name}.onnx"
    regenerate = f"edge-agent models standin {name} --out {models_dir}"
    if not onnx_path.is_file():
        raise InputNotFoundError(
            f"model file {onnx_path} does not exist",
            f"generate a stand-in with `{regenerate}` or copy the NGC model there",
        )
    sidecar = onnx_path.with_name(name + SIDECAR_SUFFIX)
    data = _read_sidecar(sidecar, regenerate)
    standin = data.pop("standin", False)
    data.pop("generator_version", None)  # informational: which generator wrote a stand-in
    if not isinstance(standin, bool):
        raise ModelContractError(
            f"{sidecar}: 'standin' must be true or false, not {standin!r}",
            f"fix the file or regenerate it with `{regenerate}`",
        )
    manifest = manifest_from_dict(data, str(sidecar))
    if manifest.name != name:
        raise ModelContractError(
            f"{sidecar} describes model {manifest.name!r}, not {name!r}",
            f"regenerate it with `{regenerate}`",
        )
    if not manifest.sha256:
        raise ModelContractError(
            f"{sidecar} records no sha256 for {onnx_path}",
            f"add the file's sha256 (`sha256sum {onnx_path}`) after checking its origin",
        )
    try:
        actual = sha256_file(onnx_path)
    except OSError as exc:
        raise InputNotFoundError(f"cannot read model file {onnx_path}: {exc}",
                                 "check its permissions") from exc
    if actual != manifest.sha256:
        raise ModelContractError(
            f"{onnx_path} has sha256 {actual} but {sidecar} records {manifest.sha256}",
            f"the file was modified or replaced: regenerate it with `{regenerate}` "
            "or download the model again",
        )
    return ModelRecord(
        name=name, onnx_path=onnx_path, manifest=manifest, sha256=actual, standin=standin
    )


def _read_sidecar(sidecar: Path, regenerate: str) -> Dict[str, Any]:
    """The sidecar's JSON object; a missing or malformed file is a ModelContractError."""
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelContractError(
            f"model sidecar {sidecar} does not exist, so the model cannot be verified",
            f"regenerate both files with `{regenerate}`",
        ) from exc
    except (OSError, ValueError) as exc:
        raise ModelContractError(
            f"model sidecar {sidecar} cannot be read as JSON: {exc}",
            f"regenerate it with `{regenerate}`",
        ) from exc
    if not isinstance(data, dict):
        raise ModelContractError(
            f"model sidecar {sidecar} must hold a JSON object, not {type(data).__name__}",
            f"regenerate it with `{regenerate}`",
        )
    return data

