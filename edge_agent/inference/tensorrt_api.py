"""The ONE module that calls tensorrt and pycuda. Everything that decides lives elsewhere.

Written against the name-based I/O API that TensorRT 8.5 introduced and 10.x kept
(`num_io_tensors`, `get_tensor_name`, `get_tensor_mode`, `set_input_shape`,
`set_tensor_address`, `execute_async_v3`), and the builder API common to 8.5/8.6/10.x
(`build_serialized_network`, `set_memory_pool_limit(MemoryPoolType.WORKSPACE, ...)`,
`default_device_type`/`DLA_core`/`BuilderFlag.GPU_FALLBACK`, optimization profiles). The one
version split: TensorRT < 10 needs the EXPLICIT_BATCH network flag, 10.x is explicit-batch only.
Progress uses `trt.IProgressMonitor` where the binding has it (`phase_start`, `step_complete`
returning False to cancel, `phase_finish`); elsewhere the caller reports elapsed time.
Both libraries are imported by name inside functions, so importing this module costs nothing and
the CPU path never loads them. Tests replace this module with a FAKE (tests/fake_tensorrt.py).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from edge_agent.inference.backend import TensorSpec
from edge_agent.inference.tensorrt_settings import BuildSettings, TrtCapabilities

Progress = Callable[[str], None]


def _trt() -> Any:
    return importlib.import_module("tensorrt")


class TensorRtToolkit:
    """Real TensorRT: capabilities, build, load. Construct only where tensorrt is installed."""

    def __init__(self) -> None:
        self._trt = _trt()
        self._logger = self._trt.Logger(self._trt.Logger.WARNING)

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
              cancel: threading.Event) -> bytes:
        """Parse the ONNX and build a serialized plan; RuntimeError with TensorRT's messages."""
        trt = self._trt
        builder = trt.Builder(self._logger)
        major = int(str(trt.__version__).split(".")[0])
        flags = 0 if major >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
        network = builder.create_network(flags)
        parser = trt.OnnxParser(network, self._logger)
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
        if self.has_progress_monitor:
            config.progress_monitor = _progress_monitor(trt, progress, cancel)
        plan = builder.build_serialized_network(network, config)
        if plan is None:
            raise RuntimeError("cancelled" if cancel.is_set() else "TensorRT build failed")
        return bytes(plan)

    def load(self, plan: bytes) -> TensorRtEngine:
        """Deserialize a plan and prepare it to run."""
        return TensorRtEngine(self._trt, self._logger, plan)


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
    """A deserialized engine with pycuda buffers; satisfies inference.backend.InferenceBackend."""

    def __init__(self, trt: Any, logger: Any, plan: bytes) -> None:
        self._trt = trt
        self._cuda = importlib.import_module("pycuda.driver")
        self._cuda.init()
        self._ctx = self._cuda.Device(0).retain_primary_context()
        self._ctx.push()
        try:
            self._runtime = trt.Runtime(logger)
            self._engine = self._runtime.deserialize_cuda_engine(plan)
            if self._engine is None:
                raise RuntimeError("TensorRT could not deserialize the engine")
            self._context = self._engine.create_execution_context()
            self._stream = self._cuda.Stream()
        finally:
            self._ctx.pop()
        self._device: Dict[str, Any] = {}
        self._device_bytes: Dict[str, int] = {}
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        is_input = trt.TensorIOMode.INPUT
        self._inputs = [n for n in names if self._engine.get_tensor_mode(n) == is_input]
        self._outputs = [n for n in names if n not in self._inputs]

    def _spec(self, name: str) -> TensorSpec:
        dtype = np.dtype(self._trt.nptype(self._engine.get_tensor_dtype(name))).name
        shape = tuple(int(d) if int(d) >= 0 else "N" for d in self._engine.get_tensor_shape(name))
        return TensorSpec(name=name, dtypes=(dtype,), shape=shape)

    @property
    def inputs(self) -> Sequence[TensorSpec]:
        return [self._spec(n) for n in self._inputs]

    @property
    def outputs(self) -> Sequence[TensorSpec]:
        return [self._spec(n) for n in self._outputs]

    def _buffer(self, name: str, nbytes: int) -> Any:
        if self._device_bytes.get(name, -1) < nbytes:
            self._device[name] = self._cuda.mem_alloc(max(nbytes, 1))
            self._device_bytes[name] = nbytes
        return self._device[name]

    def run(self, feeds: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Copy inputs in, execute_async_v3, copy outputs out, synchronize."""
        self._ctx.push()
        try:
            hosts: Dict[str, np.ndarray] = {}
            for name in self._inputs:
                array = np.ascontiguousarray(feeds[name])
                self._context.set_input_shape(name, array.shape)
                device = self._buffer(name, array.nbytes)
                self._context.set_tensor_address(name, int(device))
                self._cuda.memcpy_htod_async(device, array, self._stream)
            for name in self._outputs:
                shape = tuple(int(d) for d in self._context.get_tensor_shape(name))
                dtype = self._trt.nptype(self._engine.get_tensor_dtype(name))
                host = self._cuda.pagelocked_empty(shape, dtype)
                device = self._buffer(name, host.nbytes)
                self._context.set_tensor_address(name, int(device))
                hosts[name] = host
            if not self._context.execute_async_v3(stream_handle=self._stream.handle):
                raise RuntimeError("TensorRT execute_async_v3 failed")
            for name, host in hosts.items():
                self._cuda.memcpy_dtoh_async(host, self._device[name], self._stream)
            self._stream.synchronize()
            return {name: np.array(host) for name, host in hosts.items()}
        finally:
            self._ctx.pop()

    def close(self) -> None:
        """Free device buffers and the engine; release the primary context."""
        self._ctx.push()
        try:
            for buffer in self._device.values():
                buffer.free()
            self._device.clear()
            self._context = None
            self._engine = None
        finally:
            self._ctx.pop()
            self._ctx.detach()
