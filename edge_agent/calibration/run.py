"""One calibration run: footage -> samples -> ranges -> QDQ + cache -> gate -> report -> install.

Everything is written to a staging folder first; a run whose gate passes is published as the
model version's `local/` calibration (replacing the previous one atomically), a refused run as
`refused/`, so the figures that refused it can be read, and never selected by a build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx

from edge_agent.calibration import model_inputs, store
from edge_agent.calibration.cache_format import format_cache, parse_cache, version_number
from edge_agent.calibration.gate import (
    GateResult,
    GateThresholds,
    judge_boxes,
    judge_classes,
    judge_embeddings,
    judge_masks,
)
from edge_agent.calibration.quantize import (
    check_model_ops,
    insert_qdq,
    quantize,
    ranges_from_amax,
)
from edge_agent.calibration.recipes import Recipe, load_recipe
from edge_agent.calibration.report import write_report
from edge_agent.calibration.sampling import (
    FrameSet,
    NotEnoughImagesError,
    deal,
    evenly_spaced,
    sample_images,
    sample_video,
)
from edge_agent.errors import ConfigError
from edge_agent.models import peoplenet
from edge_agent.models.store import ModelRecord, load_model_record

ProgressFn = Callable[[str, int, int], None]
Sample = Dict[str, np.ndarray]
QDQ_NAME = "model.qdq.onnx"


@dataclass(frozen=True)
class CalibrationJob:
    """What to calibrate, from which footage, and for which TensorRT."""

    model_name: str
    models_dir: Path
    root: Path
    tensorrt_version: str
    video: Optional[Path] = None
    images: Optional[Path] = None
    tensors: Optional[Path] = None
    detector: Optional[Path] = None
    use_tensorrt: bool = False  # TensorRT's entropy calibrator (a Jetson) instead of ONNX Runtime
    recipe_overrides: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationOutcome:
    """Where the run's files went and what the gate said."""

    folder: Path
    gate: GateResult
    recipe: Recipe
    cache_path: Path
    qdq_path: Path
    report_path: Path
    tensors: int

    @property
    def passed(self) -> bool:
        """True when the gate passed and the run was installed as `local/`."""
        return self.gate.passed


@dataclass(frozen=True)
class _Data:
    calibration: List[Sample]
    held_out: List[Sample]
    frame_sizes: List[Tuple[int, int]]
    facts: Dict[str, object]


def _check_sources(job: CalibrationJob) -> None:
    given = [n for n, v in (("--video", job.video), ("--images", job.images),
                            ("--tensors", job.tensors)) if v is not None]
    if len(given) != 1:
        raise ConfigError(f"calibrate needs exactly one of --video, --images, --tensors "
                          f"(got {', '.join(given) or 'none'})",
                          "pass --video FILE or --images DIR (--tensors FILE.npy for models "
                          "whose input is not an image)")


def _frames(job: CalibrationJob, frames_cal: int, frames_held: int,
            progress: ProgressFn) -> FrameSet:
    if job.video is not None:
        return sample_video(job.video, frames_cal, frames_held, progress)
    assert job.images is not None
    return sample_images(job.images, frames_cal, frames_held, progress)


def _frame_facts(frames: FrameSet) -> Dict[str, object]:
    return {"source": frames.source, "frames seen": frames.frames_seen,
            "scenes": frames.scenes, "unreadable images": frames.unreadable}


def _build_data(job: CalibrationJob, record: ModelRecord, recipe: Recipe,
                progress: ProgressFn) -> _Data:
    family = record.manifest.family
    (spec,) = record.manifest.input_specs()
    if job.tensors is not None:
        rows = model_inputs.tensor_samples(job.tensors, spec.name, spec.shape)
        needed = recipe.samples + recipe.held_out
        if len(rows) < needed:
            raise NotEnoughImagesError(
                f"--tensors {job.tensors}: found {len(rows)} sample(s), calibration needs "
                f"{needed} (calibration samples + held-out)", "record more input tensors")
        cal_rows, held_rows = deal(evenly_spaced(0, len(rows), needed), recipe.held_out)
        return _Data([rows[i] for i in cal_rows], [rows[i] for i in held_rows], [],
                     {"source": f"tensors {job.tensors}", "samples recorded": len(rows)})
    if family in model_inputs.TENSOR_FAMILIES:
        raise ConfigError(f"{record.name} takes {list(spec.shape)} tensors, not images",
                          "pass --tensors FILE.npy with recorded inputs")
    if family in model_inputs.FRAME_FAMILIES:
        frames = _frames(job, recipe.samples, recipe.held_out, progress)
        facts = _frame_facts(frames)
        cal = model_inputs.frame_samples(family, spec.name, frames.calibration, progress,
                                         "preprocess")
        held = model_inputs.frame_samples(family, spec.name, frames.held_out, progress,
                                          "preprocess held-out")
        sizes = [(f.shape[1], f.shape[0]) for f in frames.held_out]
        return _Data(cal, held, sizes, facts)
    # Not every frame shows a person: crop models look at twice as many frames as crops.
    frames = _frames(job, 2 * recipe.samples, recipe.held_out, progress)
    facts = _frame_facts(frames)
    detector = job.detector or Path(job.models_dir) / "peoplenet.onnx"
    cal_crops = model_inputs.person_crops(detector, frames.calibration, recipe.crops_per_frame,
                                          progress, "detect people")
    held_crops = model_inputs.person_crops(detector, frames.held_out, recipe.crops_per_frame,
                                           progress, "detect people (held-out)")
    model_inputs.need_crops(len(cal_crops), recipe.samples, "calibration frames")
    model_inputs.need_crops(len(held_crops), 2, "held-out frames")  # rank-1 needs a pair
    keep = np.linspace(0, len(cal_crops) - 1, recipe.samples).round().astype(int)
    facts.update({"detector": str(detector), "crops found": len(cal_crops),
                  "held-out crops": len(held_crops)})
    return _Data(model_inputs.crop_samples(spec.name, [cal_crops[i] for i in keep]),
                 model_inputs.crop_samples(spec.name, held_crops), [], facts)


def judge(family: str, fp32_path: Path, qdq_path: Path, held_out: Sequence[Sample],
          frame_sizes: Sequence[Tuple[int, int]], limits: GateThresholds,
          progress: ProgressFn) -> GateResult:
    """Run FP32 and INT8 on the held-out samples and compare what consumers use."""
    import onnxruntime as ort

    cpu = ["CPUExecutionProvider"]
    fp32 = ort.InferenceSession(str(fp32_path), providers=cpu)
    int8 = ort.InferenceSession(str(qdq_path), providers=cpu)
    names = [o.name for o in fp32.get_outputs()]
    outputs: List[Tuple[List[np.ndarray], List[np.ndarray]]] = []
    for number, feed in enumerate(held_out, start=1):
        outputs.append((fp32.run(names, feed), int8.run(names, feed)))
        progress("accuracy gate", number, len(held_out))
    if family == "semseg":
        return judge_masks([a[0] for a, _ in outputs], [b[0] for _, b in outputs], limits)
    if family == "peoplenet":
        cov, bbox = names.index(peoplenet.COV_NAME), names.index(peoplenet.BBOX_NAME)
        params = peoplenet.ClusterParams()

        def decode(out: List[np.ndarray], size: Tuple[int, int]) -> peoplenet.Detections:
            return peoplenet.decode_batch(out[cov], out[bbox], [size], params)[0]

        return judge_boxes([decode(a, s) for (a, _), s in zip(outputs, frame_sizes)],
                           [decode(b, s) for (_, b), s in zip(outputs, frame_sizes)], limits)
    stacked_a = np.concatenate([a[0] for a, _ in outputs])
    stacked_b = np.concatenate([b[0] for _, b in outputs])
    if family == "reid":
        return judge_embeddings(stacked_a, stacked_b, limits)
    return judge_classes(stacked_a, stacked_b, limits)


def _ranges(job: CalibrationJob, record: ModelRecord, recipe: Recipe, data: _Data,
            header_version: int, progress: ProgressFn) -> Tuple[onnx.ModelProto, str, int]:
    """(QDQ model, cache text, tensors in the cache) from ONNX Runtime or TensorRT ranges."""
    if not job.use_tensorrt:
        result = quantize(record.onnx_path, data.calibration, recipe.method, recipe.op_types,
                          progress, per_channel=recipe.per_channel,
                          nodes_to_exclude=recipe.nodes_to_exclude)
        return (result.qdq_model, format_cache(header_version, result.scales),
                len(result.scales))
    from edge_agent.calibration.tensorrt_calibrator import calibrate_with_tensorrt

    check_model_ops(onnx.load(str(record.onnx_path)), recipe.op_types)
    (spec,) = record.manifest.input_specs()
    raw = calibrate_with_tensorrt(record.onnx_path, spec.name,
                                  [s[spec.name] for s in data.calibration], progress)
    parsed = parse_cache(raw.decode("utf-8"))
    # The gate judges TensorRT's own ranges: the same op types get Q/DQ with them.
    qdq, _ = insert_qdq(record.onnx_path, ranges_from_amax(parsed.dynamic_ranges()),
                        recipe.op_types, recipe.per_channel, recipe.nodes_to_exclude)
    return qdq, raw.decode("utf-8"), len(parsed.scales)


def calibrate(job: CalibrationJob, progress: ProgressFn) -> CalibrationOutcome:
    """Run the whole calibration; the outcome says whether it was installed or refused."""
    import onnxruntime as ort

    _check_sources(job)
    header_version = version_number(job.tensorrt_version)
    record = load_model_record(job.models_dir, job.model_name)
    manifest = record.manifest
    model_inputs.check_family(manifest.family, record.name)
    recipe = load_recipe(job.root, record.name, job.recipe_overrides)
    data = _build_data(job, record, recipe, progress)
    qdq_model, cache_text, tensors = _ranges(job, record, recipe, data, header_version,
                                             progress)
    staging = store.staging_dir(job.root, record.name, manifest.ngc_version)
    qdq_path = staging / QDQ_NAME
    onnx.save(qdq_model, str(qdq_path))
    gate = judge(manifest.family, record.onnx_path, qdq_path, data.held_out, data.frame_sizes,
                 recipe.gate, progress)
    (staging / store.CACHE_NAME).write_bytes(cache_text.encode("utf-8"))
    facts: Dict[str, object] = {
        "model": record.name, "model version": manifest.ngc_version,
        "model sha256": record.sha256, "stand-in model": record.standin,
        **data.facts,
        "calibration samples": len(data.calibration), "held-out samples": len(data.held_out),
        "method": recipe.method, "op types in INT8": recipe.op_types,
        "tensors in the cache": tensors,
        "range measurement": "TensorRT entropy calibrator" if job.use_tensorrt
        else f"ONNX Runtime {ort.__version__}",
        "TensorRT version (cache header)": f"{job.tensorrt_version} ({header_version})",
        "created (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    report = write_report(staging, f"INT8 calibration of {record.name} "
                          f"{manifest.ngc_version}", facts, gate)
    meta = store.metadata(record.name, manifest.ngc_version, cache_text, "local",
                          model_sha256=record.sha256, standin=record.standin,
                          method=recipe.method, samples=len(data.calibration),
                          held_out=len(data.held_out), gate=gate.as_dict(),
                          recipe=recipe.model_dump(mode="json"),
                          created_utc=facts["created (UTC)"])
    (staging / store.META_NAME).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n",
                                           encoding="utf-8")
    target = "local" if gate.passed else store.REFUSED
    folder = store.publish(staging, store.version_dir(job.root, record.name,
                                                      manifest.ngc_version) / target)
    return CalibrationOutcome(folder, gate, recipe, folder / store.CACHE_NAME,
                              folder / QDQ_NAME, folder / report.name, tensors)
