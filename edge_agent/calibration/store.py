"""The `calibration/` folder: which cache an engine build uses, and whether it fits the build.

Layout, per model and model version (the manifest's `ngc_version`):

    <root>/<model>/<version>/ngc/     calibration.cache + calibration.json  (shipped by NVIDIA)
    <root>/<model>/<version>/local/   calibration.cache + calibration.json + report.md, *.png,
                                      model.qdq.onnx                        (passed the gate)
    <root>/<model>/<version>/refused/ the last calibration the gate refused, with its report
    <root>/recipes/<model>.toml       how the model is calibrated

A local calibration replaces NVIDIA's cache; a refused one is never selected. `calibration.json`
records what the cache belongs to (model, version, model file sha256, TensorRT version of the
header) and the cache's own sha256, so a truncated, edited or misplaced cache is caught here,
before TensorRT is asked to build with it: TensorRT would otherwise fail late, or worse, quietly
recalibrate or apply ranges to the wrong tensors.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Dict, List, Optional, Set

from edge_agent.calibration.cache_format import (
    CacheFormatError,
    CalibrationCache,
    major_from_version_number,
    parse_cache,
)
from edge_agent.errors import ConfigError, ModelContractError

CACHE_NAME = "calibration.cache"
META_NAME = "calibration.json"
SOURCES = ("local", "ngc")  # in order of preference
REFUSED = "refused"
META_FORMAT = 1
# Tensors TensorRT names itself (layers without an ONNX name) appear in caches its own
# calibrator writes; they cannot be checked against the ONNX and are allowed.
_TRT_INTERNAL_PREFIX = "(Unnamed Layer"


class CalibrationCacheError(ModelContractError):
    """A cache that must not be used for this build; the message lists every problem."""


@dataclass(frozen=True)
class CalibrationChoice:
    """The cache an INT8 build should use: where, its sha256 (for the engine key), from whom."""

    path: Path
    sha256: str
    source: str  # "local" or "ngc"

    @property
    def metadata_path(self) -> Path:
        """`calibration.json` next to the cache."""
        return self.path.with_name(META_NAME)


def _safe_part(value: str, what: str) -> str:
    if not value or value in (".", "..") or "/" in value or "\\" in value:
        raise ConfigError(f"{what} {value!r} cannot name a calibration folder",
                          f"use the model's {what} from its manifest")
    return value


def version_dir(root: Path, model_name: str, model_version: str) -> Path:
    """`<root>/<model>/<version>`."""
    return (Path(root) / _safe_part(model_name, "model name")
            / _safe_part(model_version, "model version"))


def sha256_bytes(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


def read_metadata(folder: Path) -> Optional[Dict[str, Any]]:
    """`calibration.json` of a folder, None when missing or not a JSON object."""
    try:
        data = json.loads((Path(folder) / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def select_calibration(model_name: str, model_version: str, root: Path
                       ) -> Optional[CalibrationChoice]:
    """The cache to build with: a local calibration that passed its gate, else NVIDIA's.

    No side effects; None when neither exists (the build then falls back to FP16, as
    `decide_build_settings` already does without a cache). Whether the chosen cache fits the
    model and this TensorRT is `validate_cache`'s job, called right before the build.
    """
    base = version_dir(root, model_name, model_version)
    for source in SOURCES:
        folder = base / source
        cache = folder / CACHE_NAME
        if not cache.is_file():
            continue
        meta = read_metadata(folder) or {}
        if source == "local" and not (meta.get("gate") or {}).get("passed", False):
            continue  # only a calibration that passed its gate replaces NVIDIA's
        return CalibrationChoice(cache, sha256_bytes(cache.read_bytes()), source)
    return None


def model_tensor_names(onnx_path: Path) -> Set[str]:
    """Names TensorRT's ONNX parser gives tensors: graph inputs and node outputs."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    names = {inp.name for inp in model.graph.input}
    for node in model.graph.node:
        names.update(out for out in node.output if out)
    return names


def tensorrt_major(version: str) -> int:
    """Major of a 'major.minor.patch' TensorRT version string."""
    try:
        return int(version.strip().split(".")[0])
    except ValueError:
        raise ConfigError(f"TensorRT version {version!r} is not 'major.minor.patch'",
                          "pass the version TensorRT reports (tensorrt.__version__)") from None


def validate_cache(cache_path: Path, model_name: str, model_version: str,
                   tensor_names: Collection[str], tensorrt_version: str,
                   model_sha256: Optional[str] = None) -> CalibrationCache:
    """Check a cache before a build; CalibrationCacheError listing every problem otherwise.

    Checked: the bytes still have the sha256 recorded next to them, the text parses as
    TensorRT's format, the recorded model name/version (and model file sha256 when both are
    known) match, the header's TensorRT major equals this TensorRT's, and every tensor the
    cache names exists in the model (TensorRT-internal names excepted).
    """
    cache_path = Path(cache_path)
    where = str(cache_path)
    try:
        data = cache_path.read_bytes()
    except OSError as exc:
        raise CalibrationCacheError(f"calibration cache {where} cannot be read: {exc}",
                                    "run `edge-agent calibrate` again or re-fetch the model"
                                    ) from None
    problems: List[str] = []
    meta = read_metadata(cache_path.parent)
    if meta is None:
        problems.append(f"{META_NAME} is missing or unreadable, so the cache is unverified")
    else:
        problems += _metadata_problems(meta, sha256_bytes(data), model_name, model_version,
                                       model_sha256)
    try:
        parsed = parse_cache(data.decode("utf-8"))
    except (UnicodeDecodeError, CacheFormatError) as exc:
        problems.append(f"not a TensorRT calibration cache (corrupt): {exc}")
        raise CalibrationCacheError(f"calibration cache {where} cannot be used: "
                                    + "; ".join(problems), _FIX) from None
    device_major = tensorrt_major(tensorrt_version)
    if parsed.tensorrt_major != device_major:
        problems.append(
            f"it was made for TensorRT {parsed.tensorrt_major} (header number "
            f"{parsed.version_number}) but this device has TensorRT {tensorrt_version} "
            f"(major {device_major})")
    known = set(tensor_names)
    unknown = [n for n in parsed.scales if n not in known
               and not n.startswith(_TRT_INTERNAL_PREFIX)]
    if unknown:
        shown = ", ".join(repr(n) for n in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        problems.append(f"{len(unknown)} of its {len(parsed.scales)} tensor names are not in "
                        f"the model: {shown}{more}")
    if problems:
        raise CalibrationCacheError(f"calibration cache {where} cannot be used: "
                                    + "; ".join(problems), _FIX)
    return parsed


_FIX = ("calibrate this model version again with `edge-agent calibrate` (for the device's "
        "TensorRT version), or remove the folder so NVIDIA's cache or FP16 is used")


def _metadata_problems(meta: Dict[str, Any], actual_sha: str, model_name: str,
                       model_version: str, model_sha256: Optional[str]) -> List[str]:
    problems = []
    if meta.get("cache_sha256") != actual_sha:
        problems.append(f"its sha256 {actual_sha[:12]}… differs from the recorded "
                        f"{str(meta.get('cache_sha256'))[:12]}… (modified or corrupt)")
    if meta.get("model_name") != model_name:
        problems.append(f"it belongs to model {meta.get('model_name')!r}, not {model_name!r}")
    if meta.get("model_version") != model_version:
        problems.append(f"it was made for model version {meta.get('model_version')!r}, "
                        f"not {model_version!r}")
    recorded = meta.get("model_sha256")
    if model_sha256 and recorded and recorded != model_sha256:
        problems.append(f"it was calibrated on model file {str(recorded)[:12]}…, not "
                        f"{model_sha256[:12]}… (another file of the same version)")
    return problems


def metadata(model_name: str, model_version: str, cache_text: str, source: str,
             **facts: Any) -> Dict[str, Any]:
    """The calibration.json content for a cache."""
    parsed = parse_cache(cache_text)
    return {"format": META_FORMAT, "model_name": model_name, "model_version": model_version,
            "source": source, "cache_sha256": sha256_bytes(cache_text.encode("utf-8")),
            "tensorrt_version_number": parsed.version_number,
            "tensorrt_major": major_from_version_number(parsed.version_number),
            "algorithm": parsed.algorithm, "tensors": len(parsed.scales), **facts}


def staging_dir(root: Path, model_name: str, model_version: str) -> Path:
    """A fresh temporary folder beside the final ones (same filesystem: rename is atomic)."""
    base = version_dir(root, model_name, model_version)
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".staging-", dir=str(base)))


def publish(staging: Path, destination: Path) -> Path:
    """Replace `destination` with `staging`: readers see the old folder or the new one."""
    destination = Path(destination)
    old = destination.with_name(f".old-{destination.name}-{os.getpid()}")
    if destination.exists():
        destination.replace(old)
    Path(staging).replace(destination)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    return destination


def install_shipped_cache(root: Path, model_name: str, model_version: str, cache_bytes: bytes,
                          model_sha256: str = "", origin: str = "") -> CalibrationChoice:
    """Store the cache NVIDIA ships with a model (the model-fetch command calls this).

    The text is parsed first, so a download that is not a cache is refused here.
    """
    try:
        text = cache_bytes.decode("utf-8")
        parse_cache(text)
    except (UnicodeDecodeError, CacheFormatError) as exc:
        raise CalibrationCacheError(f"the calibration cache shipped with {model_name} "
                                    f"{model_version} is not a TensorRT cache: {exc}",
                                    "download the model again") from None
    staging = staging_dir(root, model_name, model_version)
    (staging / CACHE_NAME).write_bytes(cache_bytes)
    meta = metadata(model_name, model_version, text, "ngc", model_sha256=model_sha256,
                    origin=origin)
    (staging / META_NAME).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    folder = publish(staging, version_dir(root, model_name, model_version) / "ngc")
    return CalibrationChoice(folder / CACHE_NAME, meta["cache_sha256"], "ngc")


def cache_for_build(model_name: str, model_version: str, onnx_path: Path, model_sha256: str,
                    tensorrt_version: str, root: Path) -> Optional[CalibrationChoice]:
    """Select and validate in one call, for the engine build: None (no cache, build FP16) or a
    choice whose `sha256` is the engine key's `calibration_sha256`; CalibrationCacheError when
    the selected cache does not fit this model file or this TensorRT."""
    choice = select_calibration(model_name, model_version, root)
    if choice is None:
        return None
    validate_cache(choice.path, model_name, model_version, model_tensor_names(onnx_path),
                   tensorrt_version, model_sha256=model_sha256)
    return choice
