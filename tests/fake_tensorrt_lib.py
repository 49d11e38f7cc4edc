"""FAKE `tensorrt` module (the 8.5.2 Python API surface the agent uses) for tests without a GPU.

Labelled FAKE, at the hardware boundary only. It lets edge_agent.inference.tensorrt_api run
unchanged and reproduces what matters about the real library:

* `nptype()` as TensorRT 8.5.2 wrote it (NVIDIA/TensorRT tag 8.5.2,
  python/packaging/tensorrt/__init__.py): the lookup table includes `np.bool`, so next to
  numpy 1.24-1.26 (alias removed; JetPack 5's venv gets 1.24.4) every call raises
  AttributeError. `simulated_numpy` says which numpy the device has.
* DLA's static-shape rule ("DLA layer restrictions"): a DLA build whose profile has
  min != opt or opt != max runs every layer on the GPU (with GPU fallback) or fails (without);
  the builder logs the 8.x placement summary at INFO either way.
* No IProgressMonitor (added in TensorRT 10), and `block_build_s` makes
  `build_serialized_network` ignore everything for that long: a build that cannot be cancelled.
* Engines parse the real ONNX for tensor names/shapes (INT64 bound as INT32, as TensorRT's
  parser narrows it), check tensor addresses against the FAKE CUDA allocations, and compute
  output row b = first element of input row b, so data movement and padding are observable.
"""

from __future__ import annotations

import enum
import json
import sys
import threading
import time
import types
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from fake_cuda_lib import FakeCudart, FakePycudaDriver


class Severity(enum.IntEnum):
    INTERNAL_ERROR = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    VERBOSE = 4


class ILogger:
    Severity = Severity

    def __init__(self) -> None:
        pass

    def log(self, severity: Severity, msg: str) -> None:
        return None


class Logger(ILogger):
    INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = (Severity.INTERNAL_ERROR, Severity.ERROR,
                                                     Severity.WARNING, Severity.INFO,
                                                     Severity.VERBOSE)

    def __init__(self, min_severity: Severity = Severity.WARNING) -> None:
        super().__init__()


class DataType(enum.Enum):
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5


class TensorIOMode(enum.Enum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


class DeviceType(enum.Enum):
    GPU = 0
    DLA = 1


class BuilderFlag(enum.Enum):
    FP16 = 0
    INT8 = 1
    GPU_FALLBACK = 3


class MemoryPoolType(enum.Enum):
    WORKSPACE = 0


class NetworkDefinitionCreationFlag(enum.IntEnum):
    EXPLICIT_BATCH = 0


_ONNX_TO_TRT = {1: "FLOAT", 10: "HALF", 3: "INT8", 6: "INT32", 7: "INT32", 9: "BOOL", 2: "UINT8"}


class FakeState:
    """Knobs and records shared by the FAKE module's objects."""

    def __init__(self, version: str = "8.5.2.2", simulated_numpy: str = "1.24.4",
                 dla_cores: int = 2, block_build_s: float = 0.0) -> None:
        self.version = version
        self.simulated_numpy = simulated_numpy
        self.dla_cores = dla_cores
        self.block_build_s = block_build_s
        self.cudart: Optional[FakeCudart] = None
        self.pycuda: Optional[FakePycudaDriver] = None


def make_module(state: FakeState, cudart: Optional[FakeCudart] = None) -> types.ModuleType:
    """A FAKE `tensorrt` module bound to `state` (and to `cudart` for address checks)."""
    trt = types.ModuleType("tensorrt")
    state.cudart = cudart
    trt.__version__ = state.version  # type: ignore[attr-defined]
    for name, value in (("ILogger", ILogger), ("Logger", Logger), ("DataType", DataType),
                        ("TensorIOMode", TensorIOMode), ("DeviceType", DeviceType),
                        ("BuilderFlag", BuilderFlag), ("MemoryPoolType", MemoryPoolType),
                        ("NetworkDefinitionCreationFlag", NetworkDefinitionCreationFlag)):
        setattr(trt, name, value)
    for member in DataType:
        setattr(trt, member.name.lower() if member.name != "FLOAT" else "float32", member)

    def nptype(trt_type: DataType) -> Any:
        # TensorRT 8.5.2 builds this table on every call; np.bool is looked up eagerly.
        major_minor = tuple(int(p) for p in state.simulated_numpy.split(".")[:2])
        if (1, 24) <= major_minor < (2, 0):
            raise AttributeError("module 'numpy' has no attribute 'bool'.\n`np.bool` was a "
                                 "deprecated alias for the builtin `bool`.")
        table = {DataType.FLOAT: np.float32, DataType.HALF: np.float16, DataType.INT8: np.int8,
                 DataType.INT32: np.int32, DataType.BOOL: np.bool_, DataType.UINT8: np.uint8}
        return table[trt_type]

    trt.nptype = nptype  # type: ignore[attr-defined]
    trt.Builder = lambda logger: Builder(state, logger)  # type: ignore[attr-defined]
    trt.OnnxParser = OnnxParser  # type: ignore[attr-defined]
    trt.Runtime = lambda logger: Runtime(state)  # type: ignore[attr-defined]
    return trt


class Network:
    def __init__(self) -> None:
        self.inputs: List[Dict[str, Any]] = []
        self.outputs: List[Dict[str, Any]] = []
        self.layers = 0


def _dims(value_info: Any) -> List[int]:
    return [d.dim_value if d.HasField("dim_value") else -1
            for d in value_info.type.tensor_type.shape.dim]


class OnnxParser:
    def __init__(self, network: Network, logger: Any) -> None:
        self.network = network
        self.num_errors = 0

    def parse(self, data: bytes) -> bool:
        import onnx

        model = onnx.load_from_string(data)
        graph = model.graph
        initializers = {i.name for i in graph.initializer}
        for vi in graph.input:
            if vi.name not in initializers:
                self.network.inputs.append({"name": vi.name, "shape": _dims(vi), "dtype":
                                            _ONNX_TO_TRT[vi.type.tensor_type.elem_type]})
        for vi in graph.output:
            self.network.outputs.append({"name": vi.name, "shape": _dims(vi), "dtype":
                                         _ONNX_TO_TRT[vi.type.tensor_type.elem_type]})
        self.network.layers = len(graph.node)
        return True

    def get_error(self, index: int) -> str:
        return ""


class Profile:
    def __init__(self) -> None:
        self.shapes: Dict[str, Tuple[Sequence[int], Sequence[int], Sequence[int]]] = {}

    def set_shape(self, name: str, low: Sequence[int], opt: Sequence[int],
                  high: Sequence[int]) -> None:
        self.shapes[name] = (tuple(low), tuple(opt), tuple(high))


class Config:
    def __init__(self) -> None:
        self.flags: set = set()  # type: ignore[type-arg]
        self.default_device_type = DeviceType.GPU
        self.DLA_core = -1
        self.profiles: List[Profile] = []
        self.int8_calibrator: Any = None

    def set_memory_pool_limit(self, pool: MemoryPoolType, size: int) -> None:
        return None

    def set_flag(self, flag: BuilderFlag) -> None:
        self.flags.add(flag)

    def add_optimization_profile(self, profile: Profile) -> int:
        self.profiles.append(profile)
        return len(self.profiles) - 1


class Builder:
    def __init__(self, state: FakeState, logger: Any) -> None:
        self.state = state
        self.logger = logger
        self.platform_has_fast_fp16 = True
        self.platform_has_fast_int8 = True
        self.num_DLA_cores = state.dla_cores

    def create_network(self, flags: int) -> Network:
        return Network()

    def create_builder_config(self) -> Config:
        return Config()

    def create_optimization_profile(self) -> Profile:
        return Profile()

    def _log(self, severity: Severity, message: str) -> None:
        self.logger.log(severity, message)

    def build_serialized_network(self, network: Network, config: Config) -> Optional[bytes]:
        if self.state.block_build_s:
            time.sleep(self.state.block_build_s)  # TensorRT 8.x: no way to interrupt this
        shapes = config.profiles[0].shapes if config.profiles else {}
        dla = config.default_device_type == DeviceType.DLA
        static = all(lo == op == hi for lo, op, hi in shapes.values())
        dla_layers, gpu_layers = 0, network.layers
        if dla and not static:
            self._log(Severity.WARNING, "FAKE: DLA supports only static shapes (min == opt == "
                      "max); falling back to GPU for every layer")
            if BuilderFlag.GPU_FALLBACK not in config.flags:
                self._log(Severity.ERROR, "FAKE: no GPU fallback allowed; build failed")
                return None
        elif dla:
            dla_layers, gpu_layers = 1, 0
        if dla:
            self._log(Severity.INFO, "---------- Layers Running on DLA ----------")
            for _ in range(dla_layers):
                self._log(Severity.INFO, "[DlaLayer] {ForeignNode[node_0...node_last]}")
            self._log(Severity.INFO, "---------- Layers Running on GPU ----------")
            for index in range(gpu_layers):
                self._log(Severity.INFO, f"[GpuLayer] CONVOLUTION: node_{index}")
        plan = {"fake_trt": self.state.version, "inputs": network.inputs,
                "outputs": network.outputs, "profile": {k: list(v) for k, v in shapes.items()}}
        return json.dumps(plan).encode("utf-8")


class Runtime:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    def deserialize_cuda_engine(self, plan: bytes) -> Optional["Engine"]:
        try:
            spec = json.loads(bytes(plan).decode("utf-8"))
        except ValueError:
            return None
        if spec.get("fake_trt") != self.state.version:
            return None  # a plan from another TensorRT does not deserialize
        return Engine(self.state, spec)


class Engine:
    def __init__(self, state: FakeState, spec: Dict[str, Any]) -> None:
        self.state = state
        self.spec = spec
        self.tensors = [(t, TensorIOMode.INPUT) for t in spec["inputs"]] + [
            (t, TensorIOMode.OUTPUT) for t in spec["outputs"]]
        self.num_io_tensors = len(self.tensors)

    def _find(self, name: str) -> Tuple[Dict[str, Any], TensorIOMode]:
        return next(t for t in self.tensors if t[0]["name"] == name)

    def get_tensor_name(self, index: int) -> str:
        return str(self.tensors[index][0]["name"])

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return self._find(name)[1]

    def get_tensor_dtype(self, name: str) -> DataType:
        return DataType[self._find(name)[0]["dtype"]]

    def get_tensor_shape(self, name: str) -> Tuple[int, ...]:
        return tuple(self._find(name)[0]["shape"])

    def create_execution_context(self) -> "Context":
        return Context(self)


class Context:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shapes: Dict[str, Tuple[int, ...]] = {}
        self.addresses: Dict[str, int] = {}
        self.lock = threading.Lock()

    def set_input_shape(self, name: str, shape: Sequence[int]) -> bool:
        low, _, high = self.engine.spec["profile"][name]
        if not all(lo <= s <= hi for lo, s, hi in zip(low, shape, high)):
            raise RuntimeError(f"FAKE TensorRT: set_input_shape({name}, {tuple(shape)}) is "
                               f"outside the optimization profile {low}..{high}")
        self.shapes[name] = tuple(int(s) for s in shape)
        return True

    def get_tensor_shape(self, name: str) -> Tuple[int, ...]:
        batch = next(iter(self.shapes.values()))[0]
        return tuple(batch if d < 0 else d for d in self.engine.get_tensor_shape(name))

    def set_tensor_address(self, name: str, address: int) -> bool:
        self.addresses[name] = int(address)
        return True

    def _array(self, name: str) -> np.ndarray:
        shape = self.shapes.get(name) or self.get_tensor_shape(name)
        dtype = np.dtype({"FLOAT": np.float32, "HALF": np.float16, "INT8": np.int8,
                          "INT32": np.int32, "BOOL": np.bool_, "UINT8": np.uint8}[
                              self.engine.get_tensor_dtype(name).name])
        nbytes = int(np.prod(shape)) * dtype.itemsize
        cudart, pycuda = self.engine.state.cudart, self.engine.state.pycuda
        address = self.addresses.get(name)
        valid = address is not None and (
            (cudart is not None and cudart.contains(cudart.device, address, nbytes))
            or (pycuda is not None and pycuda.owns(address, nbytes)))
        if not valid:
            raise RuntimeError(f"FAKE TensorRT: tensor {name} has no valid device address")
        import ctypes

        raw = (ctypes.c_uint8 * nbytes).from_address(address or 0)
        return np.frombuffer(raw, dtype=np.uint8).view(dtype).reshape(shape)

    def execute_async_v3(self, stream_handle: int) -> bool:
        inputs = [t["name"] for t in self.engine.spec["inputs"]]
        first = self._array(inputs[0])
        for tensor in self.engine.spec["outputs"]:
            out = self._array(tensor["name"])
            for row in range(out.shape[0]):
                out[row] = first[row].flat[0]
        return True


def install(monkeypatch: Any, state: Optional[FakeState] = None,
            cudart: Optional[FakeCudart] = None,
            pycuda: Optional[FakePycudaDriver] = None) -> Tuple[types.ModuleType, FakeCudart,
                                                                 FakePycudaDriver]:
    """Put FAKE tensorrt, cuda.cudart and pycuda.driver into sys.modules (undone by pytest)."""
    cudart = cudart or FakeCudart()
    pycuda = pycuda or FakePycudaDriver()
    state = state or FakeState()
    trt = make_module(state, cudart)
    state.pycuda = pycuda
    cuda_pkg = types.ModuleType("cuda")
    cuda_pkg.cudart = cudart  # type: ignore[attr-defined]
    pycuda_pkg = types.ModuleType("pycuda")
    pycuda_pkg.driver = pycuda  # type: ignore[attr-defined]
    for name, module in (("tensorrt", trt), ("cuda", cuda_pkg), ("cuda.cudart", cudart),
                         ("pycuda", pycuda_pkg), ("pycuda.driver", pycuda)):
        monkeypatch.setitem(sys.modules, name, module)
    return trt, cudart, pycuda


def build_in_child(payload: Dict[str, Any], progress: Any) -> Any:
    """Child-process entry: the real tensorrt_api build against this FAKE module."""
    options = payload.get("options", {})
    state = FakeState(version=options.get("version", "8.5.2.2"),
                      block_build_s=float(options.get("block_build_s", 0.0)))
    sys.modules["tensorrt"] = make_module(state, FakeCudart())
    from edge_agent.inference import tensorrt_api

    return tensorrt_api.build_in_child(payload, progress)


def die_in_child(payload: Dict[str, Any], progress: Any) -> Any:
    """Child-process entry that is killed the way the OOM killer ends a build (SIGKILL)."""
    import os
    import signal

    progress("FAKE: allocating more than the device has")
    os.kill(os.getpid(), signal.SIGKILL)
    return None


def sleep_in_child(payload: Dict[str, Any], progress: Any) -> Any:
    """Child-process entry standing for a long TensorRT 8.x build: records its pid, sleeps."""
    import os
    from pathlib import Path

    Path(payload["pid_file"]).write_text(str(os.getpid()), encoding="ascii")
    time.sleep(600)
    return None
