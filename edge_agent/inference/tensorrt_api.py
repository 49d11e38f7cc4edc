"""The ONE module that calls tensorrt and the CUDA binding. Everything that decides lives elsewhere.

Written against the name-based I/O API that TensorRT 8.5 introduced and 10.x kept
(`num_io_tensors`, `get_tensor_name`, `get_tensor_mode`, `set_input_shape`,
`set_tensor_address`, `execute_async_v3`), and the builder API common to 8.5/8.6/10.x
(`build_serialized_network`, `set_memory_pool_limit(MemoryPoolType.WORKSPACE, ...)`,
`default_device_type`/`DLA_core`/`BuilderFlag.GPU_FALLBACK`, optimization profiles). The one
version split: TensorRT < 10 needs the EXPLICIT_BATCH network flag, 10.x is explicit-batch only.

Builds run in a child process (tensorrt_child) so the agent can stop at once and a build's
memory never stays in the agent; the child builds with `build_in_process`, logging at INFO so
the DLA placement summary can be counted (tensorrt_placement). Progress uses
`trt.IProgressMonitor` where the binding has it (TensorRT >= 10); elsewhere the caller reports
elapsed time. Memory is moved with cuda-python's runtime API (tensorrt_cuda) into buffers
allocated once per tensor and shape (tensorrt_buffers), and dtypes come from our own table
(tensorrt_dtypes), never `trt.nptype`. Both libraries are imported by name inside functions,
so importing this module costs nothing and the CPU path never loads them. Tests run this
module against FAKE tensorrt and cuda modules (tests/fake_tensorrt_lib.py), or replace it with
a FAKE toolkit (tests/fake_tensorrt.py).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from edge_agent.device import python_env
from edge_agent.errors import ConfigError, ServiceUnavailableError
from edge_agent.inference import tensorrt_cuda, tensorrt_version
from edge_agent.inference.tensorrt_buffers import BindingBuffers
from edge_agent.inference.tensorrt_child import run_in_child
from edge_agent.inference.tensorrt_dtypes import numpy_dtype
from edge_agent.inference.tensorrt_placement import BuiltPlan, parse_placement
from edge_agent.inference.tensorrt_settings import BuildSettings, TrtCapabilities
from edge_agent.models.tensor_spec import TensorSpec

Progress = Callable[[str], None]
CHILD_ENTRY = "edge_agent.inference.tensorrt_api:build_in_child"


def _trt() -> Any:
    return importlib.import_module("tensorrt")


def check_runtime(trt: Any, cudart: Any = None, root: Path = Path("/")) -> None:
    """Refuse, with one line, what would fail later: old TensorRT, a numpy the system's
    compiled modules cannot use, no CUDA binding."""
    version = str(getattr(trt, "__version__", ""))
    why = tensorrt_version.refusal(version)
    if why:
        raise ConfigError(why, "upgrade JetPack, or set models.backend = \"onnxruntime\"")
    problem = python_env.numpy_problem(*python_env.numpy_versions(root))
    if problem:
        raise ServiceUnavailableError(problem, python_env.numpy_fix())
    probe = tensorrt_cuda.probe(cudart)
    if not probe.ok:
        raise ServiceUnavailableError(
            f"TensorRT {version} is installed but the CUDA binding is not usable: {probe.detail}",
            "run `edge-agent doctor`; the CPU path works with models.backend = \"onnxruntime\"")


class TensorRtToolkit:
    """Real TensorRT: capabilities, build (in a child process), load."""

    def __init__(self, child_entry: str = CHILD_ENTRY,
                 child_options: Optional[Dict[str, Any]] = None) -> None:
        self._trt = _trt()
        check_runtime(self._trt)
        self._logger = self._trt.Logger(self._trt.Logger.WARNING)
        self._child_entry = child_entry
        self._child_options = dict(child_options or {})

    @property
    def has_progress_monitor(self) -> bool:
        """True when this TensorRT's Python binding offers IProgressMonitor."""
        return hasattr(self._trt, "IProgressMonitor")

    def capabilities(self) -> TrtCapabilities:
        """Version, fast FP16/INT8 and DLA cores as the builder reports them."""
        builder = self._trt.Builder(self._logger)
        return TrtCapabilities(
            version=str(self._trt.__version__),
            fast_fp16=bool(builder.platform_has_fast_fp16),
            fast_int8=bool(builder.platform_has_fast_int8),
            dla_cores=int(builder.num_DLA_cores),
        )

    def build(self, onnx_path: Path, settings: BuildSettings, progress: Progress,
              cancel: threading.Event) -> BuiltPlan:
        """Build in a child process; ended at once when `cancel` is set."""
        payload = {"onnx_path": str(onnx_path), "settings": settings,
                   "options": self._child_options}
        result = run_in_child(self._child_entry, payload, progress, cancel)
        if not isinstance(result, BuiltPlan):
            raise RuntimeError(f"engine build process returned {type(result).__name__}")
        return result

    def load(self, plan: bytes) -> TensorRtEngine:
        """Deserialize a plan and prepare it to run."""
        return TensorRtEngine(self._trt, self._logger, plan, tensorrt_cuda.CudaRuntime())


def build_in_child(payload: Dict[str, Any], progress: Progress) -> BuiltPlan:
    """Child-process entry (tensorrt_child): build with the real tensorrt module."""
    return build_in_process(_trt(), Path(payload["onnx_path"]), payload["settings"], progress,
                            threading.Event())


def _recording_logger(trt: Any, progress: Progress, lines: List[str]) -> Any:
    """An ILogger keeping INFO and above (for the placement summary), passing on errors."""

    class RecordingLogger(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            # Severity is an int-valued enum: INTERNAL_ERROR 0, ERROR 1, WARNING 2, INFO 3.
            if int(severity) <= int(trt.ILogger.Severity.INFO):
                lines.append(str(msg))
            if int(severity) <= int(trt.ILogger.Severity.ERROR):
                progress(f"TensorRT: {msg}")

    return RecordingLogger()


def build_in_process(trt: Any, onnx_path: Path, settings: BuildSettings, progress: Progress,
                     cancel: threading.Event) -> BuiltPlan:
    """Parse the ONNX and build a plan here; RuntimeError with TensorRT's messages."""
    lines: List[str] = []
    logger = _recording_logger(trt, progress, lines)
    builder = trt.Builder(logger)
    major = tensorrt_version.parse(str(trt.__version__))[:1] or (0,)
    flags = 0 if major[0] >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError(f"ONNX parse failed: {'; '.join(errors)}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_bytes)
    if settings.precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    if settings.precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = _cache_calibrator(trt, settings)
    if settings.dla_core >= 0:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = settings.dla_core
        if settings.gpu_fallback:
            config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    profile = builder.create_optimization_profile()
    for spec in settings.inputs:
        profile.set_shape(spec.name, spec.min_shape, spec.opt_shape, spec.max_shape)
    config.add_optimization_profile(profile)
    if hasattr(trt, "IProgressMonitor"):
        config.progress_monitor = _progress_monitor(trt, progress, cancel)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError("cancelled" if cancel.is_set() else "TensorRT build failed")
    placement = parse_placement(lines)
    if settings.dla_core >= 0:
        progress(f"DLA core {settings.dla_core}: {placement.dla_layers} layer(s) on the DLA, "
                 f"{placement.gpu_layers} on the GPU" if placement.reported else
                 "TensorRT printed no layer placement summary: DLA use unknown")
    return BuiltPlan(bytes(plan), placement)


def _cache_calibrator(trt: Any, settings: BuildSettings) -> Any:
    """An IInt8EntropyCalibrator2 that only replays an existing calibration cache."""
    assert settings.calibration_cache is not None
    cache = Path(settings.calibration_cache).read_bytes()
    batch = settings.batch_max

    class CacheCalibrator(trt.IInt8EntropyCalibrator2):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names: List[str]) -> Optional[List[int]]:
            return None  # no data: TensorRT must use the cache

        def read_calibration_cache(self) -> bytes:
            return cache

        def write_calibration_cache(self, data: bytes) -> None:
            return None

    return CacheCalibrator()


def _progress_monitor(trt: Any, progress: Progress, cancel: threading.Event) -> Any:
    class Monitor(trt.IProgressMonitor):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self._steps: Dict[str, int] = {}

        def phase_start(self, phase_name: str, parent_phase: Optional[str],
                        num_steps: int) -> None:
            self._steps[phase_name] = num_steps
            if parent_phase is None:
                progress(f"{phase_name}: started ({num_steps} steps)")

        def step_complete(self, phase_name: str, step: int) -> bool:
            total = self._steps.get(phase_name, 0)
            if total and phase_name in self._steps:
                progress(f"{phase_name}: {step + 1}/{total}")
            return not cancel.is_set()  # False asks TensorRT to abandon the build

        def phase_finish(self, phase_name: str) -> None:
            self._steps.pop(phase_name, None)

    return Monitor()


class TensorRtEngine:
    """A deserialized engine with reusable pinned buffers; an inference.backend.InferenceBackend.

    The CUDA runtime API works on the device's primary context from any thread, so the engine
    may be loaded on one thread and run and closed on another; a lock keeps one inference at
    a time on its stream and buffers.
    """

    def __init__(self, trt: Any, logger: Any, plan: bytes,
                 cuda: tensorrt_cuda.CudaRuntime) -> None:
        self._trt = trt
        self._cuda = cuda
        self._lock = threading.Lock()
        self._runtime = trt.Runtime(logger)
        self._engine = self._runtime.deserialize_cuda_engine(plan)
        if self._engine is None:
            raise RuntimeError("TensorRT could not deserialize the engine")
        self._context = self._engine.create_execution_context()
        self._stream = cuda.stream_create()
        self._buffers = BindingBuffers(cuda)
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        is_input = trt.TensorIOMode.INPUT
        self._inputs = [n for n in names if self._engine.get_tensor_mode(n) == is_input]
        self._outputs = [n for n in names if n not in self._inputs]
        self._dtypes = {n: numpy_dtype(trt, self._engine.get_tensor_dtype(n)) for n in names}

    @property
    def allocations(self) -> int:
        """CUDA allocations (host + device) made by this engine so far."""
        return self._buffers.allocations

    def _spec(self, name: str) -> TensorSpec:
        shape = tuple(int(d) if int(d) >= 0 else "N" for d in self._engine.get_tensor_shape(name))
        return TensorSpec(name=name, dtypes=(self._dtypes[name].name,), shape=shape)

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        return [self._spec(n) for n in self._inputs]

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        return [self._spec(n) for n in self._outputs]

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Copy inputs in, execute_async_v3, copy outputs out, synchronize; reuse buffers."""
        with self._lock:
            if self._context is None:
                raise RuntimeError("TensorRT engine used after close()")
            cuda, context, stream = self._cuda, self._context, self._stream
            for name in self._inputs:
                array = feeds[name]
                shape = tuple(int(d) for d in array.shape)
                context.set_input_shape(name, shape)
                binding = self._buffers.get(name, shape, self._dtypes[name])
                np.copyto(binding.host, array)
                context.set_tensor_address(name, binding.device_pointer)
                cuda.copy_to_device(binding.device_pointer, binding.host_pointer,
                                    binding.nbytes, stream)
            outputs = []
            for name in self._outputs:
                shape = tuple(int(d) for d in context.get_tensor_shape(name))
                binding = self._buffers.get(name, shape, self._dtypes[name])
                context.set_tensor_address(name, binding.device_pointer)
                outputs.append((name, binding))
            if not context.execute_async_v3(stream_handle=int(stream)):
                raise RuntimeError("TensorRT execute_async_v3 failed")
            for _, binding in outputs:
                cuda.copy_to_host(binding.host_pointer, binding.device_pointer, binding.nbytes,
                                  stream)
            cuda.synchronize(stream)
            return {name: binding.host.copy() for name, binding in outputs}

    def close(self) -> None:
        """Free the buffers and the stream, then the engine (idempotent)."""
        with self._lock:
            if self._context is None:
                return
            self._buffers.close()
            self._cuda.stream_destroy(self._stream)
            self._context = None
            self._engine = None
            self._runtime = None
