"""On a Jetson: TensorRT's own entropy calibrator, fed the same preprocessed samples.

TensorRT only measures ranges while building an INT8 engine, so this builds one (and throws
the plan away) with an `IInt8EntropyCalibrator2` whose `get_batch` copies one sample at a time
to the GPU, and keeps the bytes TensorRT hands to `write_calibration_cache`. It uses the same
binding as the engines (pycuda, see inference/tensorrt_api.py), imported only when called.

Written against the Python API as NVIDIA's samples use it (NVIDIA/TensorRT
samples/python/efficientdet/build_engine.py `EngineCalibrator`: `get_batch_size()`,
`get_batch(names)` returning a list of device pointers as ints or None when done,
`read_calibration_cache()` returning bytes or None to force calibration,
`write_calibration_cache(cache)`), with the builder calls of tensorrt_api.py.
`set_calibration_profile` is used below TensorRT 10 only: 10.x deprecates implicit-INT8
calibration and the call. Not runnable without TensorRT and a GPU; unverified on a device.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

import numpy as np

from edge_agent.errors import ServiceUnavailableError

ProgressFn = Callable[[str, int, int], None]
_WORKSPACE_BYTES = 1 << 30


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ServiceUnavailableError(
            f"`--tensorrt` needs the {name} module, which is not installed here",
            "run this on a Jetson with JetPack's TensorRT and pycuda, or drop --tensorrt to "
            "calibrate on the CPU") from None


def tensorrt_version() -> str:
    """The installed TensorRT's version string."""
    return str(_import("tensorrt").__version__)


def calibrate_with_tensorrt(onnx_path: Path, input_name: str, samples: Sequence[np.ndarray],
                            progress: ProgressFn) -> bytes:
    """Run TensorRT's entropy calibration over `samples` ([1,...] float32 each); cache bytes."""
    trt = _import("tensorrt")
    cuda = _import("pycuda.driver")
    cuda.init()
    context = cuda.Device(0).retain_primary_context()
    context.push()
    try:
        return _build_for_cache(trt, cuda, Path(onnx_path), input_name, samples, progress)
    finally:
        context.pop()
        context.detach()


def _calibrator(trt: Any, cuda: Any, samples: Sequence[np.ndarray], progress: ProgressFn
                ) -> Any:
    nbytes = max(int(s.nbytes) for s in samples)

    class SampleCalibrator(trt.IInt8EntropyCalibrator2):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.device = cuda.mem_alloc(nbytes)
            self.index = 0
            self.cache = b""

        def get_batch_size(self) -> int:
            return 1

        def get_batch(self, names: List[str]) -> Optional[List[int]]:
            if self.index >= len(samples):
                return None
            cuda.memcpy_htod(self.device, np.ascontiguousarray(samples[self.index],
                                                               dtype=np.float32))
            self.index += 1
            progress("TensorRT calibration", self.index, len(samples))
            return [int(self.device)]

        def read_calibration_cache(self) -> Optional[bytes]:
            return None  # always measure: a stale cache is what this command replaces

        def write_calibration_cache(self, cache: Any) -> None:
            self.cache = bytes(cache)

    return SampleCalibrator()


def _build_for_cache(trt: Any, cuda: Any, onnx_path: Path, input_name: str,
                     samples: Sequence[np.ndarray], progress: ProgressFn) -> bytes:
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    major = int(str(trt.__version__).split(".")[0])
    flags = 0 if major >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise RuntimeError(f"ONNX parse failed: {'; '.join(errors)}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, _WORKSPACE_BYTES)
    config.set_flag(trt.BuilderFlag.INT8)
    shape = tuple(int(d) for d in samples[0].shape)
    profile = builder.create_optimization_profile()
    profile.set_shape(input_name, shape, shape, shape)
    config.add_optimization_profile(profile)
    if major < 10:
        config.set_calibration_profile(profile)
    calibrator = _calibrator(trt, cuda, samples, progress)
    config.int8_calibrator = calibrator
    plan = builder.build_serialized_network(network, config)
    if plan is None or not calibrator.cache:
        raise RuntimeError("TensorRT INT8 build failed; no calibration cache was written")
    cache: bytes = calibrator.cache
    return cache
