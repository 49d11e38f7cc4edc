"""Activation ranges on the CPU with ONNX Runtime, then a QDQ model and TensorRT scales from it.

ONNX Runtime's calibrators (`create_calibrator`: MinMax, Entropy, Percentile) measure the
ranges; its QDQ quantizer places QuantizeLinear/DequantizeLinear pairs. Both are driven here
step by step rather than through `quantize_static`, so that samples are fed in small chunks
(the histogram calibrators keep every intermediate tensor of a chunk in memory, so one call with
all frames of a 960x544 model would need gigabytes) and progress can be shown per chunk.

Activations are quantized symmetrically to int8, as TensorRT does, so a QuantizeLinear scale
*is* TensorRT's per-tensor scale (amax / 127): the TensorRT cache is read off the QDQ model and
holds exactly the tensors the QDQ model quantizes. The accuracy gate, run on the QDQ model,
therefore speaks for an implicit-INT8 engine built from the cache, too.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

import numpy as np
import onnx
from onnx import numpy_helper

from edge_agent.errors import ModelContractError

logger = logging.getLogger(__name__)
ProgressFn = Callable[[str, int, int], None]
Sample = Dict[str, np.ndarray]
METHODS = ("entropy", "percentile", "minmax")
# Domains ONNX Runtime's CPU provider executes; anything else (TensorRT plugins, custom ops
# of a TAO export) cannot run here, so its ranges cannot be measured.
_RUNNABLE_DOMAINS = ("", "ai.onnx", "com.microsoft")
_QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
_RENAMED_OUTPUT = "_QuantizeLinear_Input"


class UnsupportedModelError(ModelContractError):
    """The quantizer cannot handle an op of the model; the message names op and node."""


@dataclass(frozen=True)
class QuantizeResult:
    """The QDQ model and the per-tensor scales TensorRT needs."""

    qdq_model: onnx.ModelProto
    scales: Dict[str, float]
    samples: int


def quantizable_op_types() -> List[str]:
    """Op types ONNX Runtime's QDQ quantizer knows how to wrap."""
    from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

    return sorted(set(QDQRegistry) | set(QLinearOpsRegistry))


def check_model_ops(model: onnx.ModelProto, op_types: Sequence[str]) -> None:
    """Refuse, naming op and node, what the CPU quantizer cannot measure or quantize."""
    supported = set(quantizable_op_types())
    for node in model.graph.node:
        label = f"op {node.op_type!r} at node {node.name or '(unnamed)'!r}"
        if node.op_type in _QDQ_OPS:
            raise UnsupportedModelError(
                f"{label}: the model is already quantized (explicit Q/DQ), so it cannot be "
                "calibrated again",
                "use the FP32 ONNX for calibration, or the cache shipped with this quantized "
                "release")
        if node.domain not in _RUNNABLE_DOMAINS:
            raise UnsupportedModelError(
                f"{label} from domain {node.domain!r}: ONNX Runtime cannot run it on the CPU, "
                "so its activation ranges cannot be measured",
                "calibrate on the device with `--tensorrt`, or export the model without "
                "plugin ops")
    present = {node.op_type: node for node in model.graph.node}
    for op_type in op_types:
        if op_type not in supported:
            node = present.get(op_type)
            where = f" at node {node.name!r}" if node is not None else ""
            raise UnsupportedModelError(
                f"op {op_type!r}{where}: the recipe asks to quantize it but ONNX Runtime's "
                "QDQ quantizer cannot handle this op",
                "remove it from the recipe's op_types (supported: "
                + ", ".join(sorted(supported)) + ")")


def _chunks(samples: Sequence[Sample], size: int) -> Iterator[Sequence[Sample]]:
    for start in range(0, len(samples), size):
        yield samples[start:start + size]


class _ListReader:
    """ONNX Runtime CalibrationDataReader over a list of feeds."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self._items = iter(samples)

    def get_next(self) -> Optional[Sample]:
        return next(self._items, None)


def _calibration_method(method: str) -> Any:
    from onnxruntime.quantization import CalibrationMethod

    names = {"entropy": CalibrationMethod.Entropy, "percentile": CalibrationMethod.Percentile,
             "minmax": CalibrationMethod.MinMax}
    if method not in names:
        raise ValueError(f"unknown calibration method {method!r}; use one of {METHODS}")
    return names[method]


def measure_ranges(model_path: Path, samples: Sequence[Sample], method: str,
                   op_types: Sequence[str], progress: ProgressFn, workdir: Path,
                   chunk: int = 4, percentile: float = 99.999) -> Any:
    """TensorsData of activation ranges, fed `chunk` samples at a time."""
    from onnxruntime.quantization.calibrate import create_calibrator

    options: Dict[str, Any] = {"symmetric": True}
    if method == "percentile":
        options["percentile"] = percentile
    calibrator = create_calibrator(
        Path(model_path), list(op_types),
        augmented_model_path=str(workdir / "augmented.onnx"),
        calibrate_method=_calibration_method(method), extra_options=options)
    done = 0
    progress("activation ranges", 0, len(samples))
    for part in _chunks(samples, chunk):
        # ONNX Runtime prints a line per collect call; keep the command's output readable.
        with contextlib.redirect_stdout(io.StringIO()):
            calibrator.collect_data(_ListReader(part))
        done += len(part)
        progress("activation ranges", done, len(samples))
    with contextlib.redirect_stdout(io.StringIO()):
        return calibrator.compute_data()


def _qdq_quantizer(model: onnx.ModelProto, ranges: Any, op_types: Sequence[str],
                   per_channel: bool, nodes_to_exclude: Sequence[str]) -> Any:
    """QDQQuantizer across ONNX Runtime releases: 1.16 also takes `mode` and `static`."""
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization.qdq_quantizer import QDQQuantizer
    from onnxruntime.quantization.quant_utils import QuantizationMode

    values: Dict[str, Any] = {
        "model": model, "per_channel": per_channel, "reduce_range": False,
        "mode": QuantizationMode.QLinearOps, "static": True,
        "weight_qType": QuantType.QInt8, "activation_qType": QuantType.QInt8,
        "tensors_range": ranges, "nodes_to_quantize": [],
        "nodes_to_exclude": list(nodes_to_exclude), "op_types_to_quantize": list(op_types),
        "extra_options": {"ActivationSymmetric": True, "WeightSymmetric": True},
    }
    accepted = inspect.signature(QDQQuantizer.__init__).parameters
    return QDQQuantizer(**{k: v for k, v in values.items() if k in accepted})


def scales_from_qdq(model: onnx.ModelProto, original_names: Set[str]) -> Dict[str, float]:
    """Per-tensor scale of every quantized activation (QuantizeLinear on a non-constant).

    The quantizer renames a quantized graph output `X` to `X_QuantizeLinear_Input` (so the
    final DequantizeLinear can keep the name `X`); TensorRT knows the tensor as `X`, so the
    original name is restored.
    """
    constants = {init.name: init for init in model.graph.initializer}
    scales: Dict[str, float] = {}
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear" or node.input[0] in constants:
            continue
        scale = numpy_helper.to_array(constants[node.input[1]]).astype(np.float64)
        if scale.size != 1:  # per-channel activations do not exist in TensorRT's cache
            continue
        name = node.input[0]
        if name not in original_names and name.endswith(_RENAMED_OUTPUT):
            name = name[: -len(_RENAMED_OUTPUT)]
        scales.setdefault(name, float(scale.reshape(-1)[0]))
    return scales


def ranges_from_amax(amax: Dict[str, float]) -> Any:
    """TensorsData holding symmetric ranges (-amax, amax), e.g. read from a TensorRT cache."""
    from onnxruntime.quantization.calibrate import CalibrationMethod, TensorsData

    return TensorsData(CalibrationMethod.MinMax,
                       {name: (np.float32(-value), np.float32(value))
                        for name, value in amax.items()})


def insert_qdq(model_path: Path, ranges: Any, op_types: Sequence[str],
               per_channel: bool = True, nodes_to_exclude: Sequence[str] = ()
               ) -> Tuple[onnx.ModelProto, Dict[str, float]]:
    """QDQ model for measured (or given) ranges, and the activation scales it ended up with."""
    from onnxruntime.quantization.quant_utils import load_model_with_shape_infer

    original = onnx.load(str(model_path))
    model = load_model_with_shape_infer(Path(model_path))
    quantizer = _qdq_quantizer(model, ranges, op_types, per_channel, nodes_to_exclude)
    quantizer.quantize_model()
    qdq: onnx.ModelProto = quantizer.model.model
    names = {i.name for i in original.graph.input}
    names.update(o for node in original.graph.node for o in node.output)
    scales = scales_from_qdq(qdq, names)
    if not scales:
        raise UnsupportedModelError(
            f"no activation was quantized: the model has no node of the recipe's op types "
            f"{list(op_types)}",
            "add the model's compute ops (e.g. Conv, MatMul) to the recipe's op_types")
    return qdq, scales


def quantize(model_path: Path, samples: Sequence[Sample], method: str,
             op_types: Sequence[str], progress: ProgressFn, per_channel: bool = True,
             nodes_to_exclude: Sequence[str] = (), chunk: int = 4) -> QuantizeResult:
    """Measure ranges on `samples` and return the QDQ model and its activation scales."""
    if not samples:
        raise ValueError("quantize needs at least one calibration sample")
    original = onnx.load(str(model_path))
    check_model_ops(original, op_types)
    with tempfile.TemporaryDirectory(prefix="edge-agent-calib-") as tmp:
        workdir = Path(tmp)
        try:
            ranges = measure_ranges(model_path, samples, method, op_types, progress, workdir,
                                    chunk)
        except Exception as exc:  # noqa: BLE001 - turned into a message naming the node
            explained = _explain_runtime_failure(exc, original)
            if explained is exc:
                raise
            raise explained from exc
    progress("insert Q/DQ", 0, 1)
    qdq, scales = insert_qdq(model_path, ranges, op_types, per_channel, nodes_to_exclude)
    progress("insert Q/DQ", 1, 1)
    return QuantizeResult(qdq, scales, len(samples))


def _explain_runtime_failure(exc: Exception, model: onnx.ModelProto) -> Exception:
    """ONNX Runtime failed to run the augmented graph: name the node when its text does."""
    text = str(exc)
    for node in model.graph.node:
        if node.name and f"'{node.name}'" in text:
            return UnsupportedModelError(
                f"op {node.op_type!r} at node {node.name!r}: ONNX Runtime could not run it "
                f"while measuring ranges ({text.splitlines()[0][:200]})",
                "calibrate on the device with `--tensorrt`, or export the model without it")
    if isinstance(exc, (ValueError, RuntimeError)) or type(exc).__module__.startswith("onnx"):
        return ModelContractError(f"ONNX Runtime failed while measuring ranges: {text[:300]}",
                                  "check that the model runs with `edge-agent demo` first")
    return exc
