"""FAKE CUDA bindings (cuda-python's runtime module and pycuda.driver) for tests without a GPU.

Labelled FAKE: they stand in at the hardware boundary only and reproduce the documented
behaviour the agent depends on, including the failure modes:

* `FakeCudart` follows cuda-python's calling convention (every call returns a tuple whose
  first item is a `cudaError_t`; NVIDIA/TensorRT samples/python/common_runtime.py). "Device"
  and pinned memory are real ctypes blocks, so copies move real bytes; freeing a pointer that
  was never allocated (or twice) returns cudaErrorInvalidValue, as CUDA does. Every malloc is
  counted, so tests can prove that steady-state inference allocates nothing.
* `FakePycudaDriver` reproduces pycuda's context rule: memory freed while its context is not
  current must activate it, and activating a context from a thread other than the one that
  created it is refused ("cannot activate out-of-thread context", inducer/pycuda
  src/cpp/cuda.hpp scoped_context_activation); CUDAPP_CATCH_CLEANUP_ON_DEAD_CONTEXT then only
  prints a warning and the block leaks. `refused_frees` counts those leaks.
"""

from __future__ import annotations

import ctypes
import enum
import threading
import types
import weakref
from typing import Any, Dict, List, Optional, Tuple

import numpy as np


class cudaError_t(enum.IntEnum):  # noqa: N801 - cuda-python's name
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorMemoryAllocation = 2
    cudaErrorNoDevice = 100


class cudaMemcpyKind(enum.IntEnum):  # noqa: N801 - cuda-python's name
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2


class FakeStream:
    """cuda-python's cudaStream_t converts to its handle with int()."""

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def __int__(self) -> int:
        return self.handle


class FakeCudart(types.ModuleType):
    """FAKE `cuda.cudart` (cuda-python runtime API)."""

    def __init__(self, devices: int = 1, driver_version: int = 11040,
                 driver_missing: bool = False) -> None:
        super().__init__("cuda.cudart")
        self.driver_missing = driver_missing  # cuda-python raises instead of returning an error
        self.cudaError_t = cudaError_t
        self.cudaMemcpyKind = cudaMemcpyKind
        self.devices = devices
        self.driver_version = driver_version
        self.host: Dict[int, Any] = {}
        self.device: Dict[int, Any] = {}
        self.streams: Dict[int, FakeStream] = {}
        self.mallocs = 0
        self.lock = threading.Lock()

    def _block(self, table: Dict[int, Any], nbytes: int) -> Tuple[cudaError_t, int]:
        block = (ctypes.c_uint8 * max(int(nbytes), 1))()
        pointer = ctypes.addressof(block)
        with self.lock:
            table[pointer] = block
            self.mallocs += 1
        return cudaError_t.cudaSuccess, pointer

    def cudaMallocHost(self, nbytes: int) -> Tuple[cudaError_t, int]:  # noqa: N802
        return self._block(self.host, nbytes)

    def cudaMalloc(self, nbytes: int) -> Tuple[cudaError_t, int]:  # noqa: N802
        return self._block(self.device, nbytes)

    def _free(self, table: Dict[int, Any], pointer: int) -> Tuple[cudaError_t]:
        with self.lock:
            if table.pop(int(pointer), None) is None:
                return (cudaError_t.cudaErrorInvalidValue,)
        return (cudaError_t.cudaSuccess,)

    def cudaFreeHost(self, pointer: int) -> Tuple[cudaError_t]:  # noqa: N802
        return self._free(self.host, pointer)

    def cudaFree(self, pointer: int) -> Tuple[cudaError_t]:  # noqa: N802
        return self._free(self.device, pointer)

    def contains(self, table: Dict[int, Any], pointer: int, nbytes: int) -> bool:
        for start, block in table.items():
            if start <= pointer and pointer + nbytes <= start + ctypes.sizeof(block):
                return True
        return False

    def cudaMemcpyAsync(self, dst: int, src: int, nbytes: int, kind: cudaMemcpyKind,  # noqa: N802
                        stream: FakeStream) -> Tuple[cudaError_t]:
        if int(stream) not in self.streams:
            return (cudaError_t.cudaErrorInvalidValue,)
        to_device = kind == cudaMemcpyKind.cudaMemcpyHostToDevice
        dst_ok = self.contains(self.device if to_device else self.host, dst, nbytes)
        src_ok = self.contains(self.host if to_device else self.device, src, nbytes)
        if not (dst_ok and src_ok):
            return (cudaError_t.cudaErrorInvalidValue,)
        ctypes.memmove(dst, src, nbytes)
        return (cudaError_t.cudaSuccess,)

    def cudaStreamCreate(self) -> Tuple[cudaError_t, FakeStream]:  # noqa: N802
        stream = FakeStream(len(self.streams) + 1 + 0x1000)
        self.streams[stream.handle] = stream
        return cudaError_t.cudaSuccess, stream

    def cudaStreamSynchronize(self, stream: FakeStream) -> Tuple[cudaError_t]:  # noqa: N802
        ok = int(stream) in self.streams
        return (cudaError_t.cudaSuccess if ok else cudaError_t.cudaErrorInvalidValue,)

    def cudaStreamDestroy(self, stream: FakeStream) -> Tuple[cudaError_t]:  # noqa: N802
        ok = self.streams.pop(int(stream), None) is not None
        return (cudaError_t.cudaSuccess if ok else cudaError_t.cudaErrorInvalidValue,)

    def cudaDriverGetVersion(self) -> Tuple[cudaError_t, int]:  # noqa: N802
        if self.driver_missing:  # what cuda-python 12.2.1 does on a machine without libcuda
            raise RuntimeError("Failed to dlopen libcuda.so.1")
        return cudaError_t.cudaSuccess, self.driver_version

    def cudaGetDeviceCount(self) -> Tuple[cudaError_t, int]:  # noqa: N802
        if self.devices < 1:
            return cudaError_t.cudaErrorNoDevice, 0
        return cudaError_t.cudaSuccess, self.devices


class _Context:
    def __init__(self, owner: "FakePycudaDriver") -> None:
        self.owner = owner
        self.thread = threading.get_ident()  # pycuda records the creating thread

    def push(self) -> None:
        self.owner.stack().append(self)

    def pop(self) -> None:
        self.owner.stack().pop()

    def detach(self) -> None:
        return None


class _Device:
    def __init__(self, owner: "FakePycudaDriver") -> None:
        self.owner = owner

    def retain_primary_context(self) -> _Context:
        return _Context(self.owner)


class _Allocation:
    def __init__(self, owner: "FakePycudaDriver", nbytes: int) -> None:
        self.block = (ctypes.c_uint8 * max(nbytes, 1))()
        owner.allocations += 1
        owner.device_blocks.append(self.block)

    def __int__(self) -> int:
        return ctypes.addressof(self.block)

    def free(self) -> None:
        return None


class FakePycudaDriver(types.ModuleType):
    """FAKE `pycuda.driver`: contexts per thread, GC-freed pinned arrays, refused frees."""

    def __init__(self) -> None:
        super().__init__("pycuda.driver")
        self._local = threading.local()
        self.allocations = 0
        self.device_blocks: List[Any] = []
        self.refused_frees = 0
        self.warnings: List[str] = []
        self.Device = lambda ordinal: _Device(self)  # noqa: N802 - pycuda's name
        self.Stream = lambda: types.SimpleNamespace(handle=1, synchronize=lambda: None)  # noqa: N802

    def stack(self) -> List[_Context]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        stack: List[_Context] = self._local.stack
        return stack

    def current(self) -> Optional[_Context]:
        stack = self.stack()
        return stack[-1] if stack else None

    def owns(self, pointer: int, nbytes: int) -> bool:
        return any(ctypes.addressof(b) <= pointer and pointer + nbytes <= ctypes.addressof(b)
                   + ctypes.sizeof(b) for b in self.device_blocks)

    def init(self) -> None:
        return None

    def mem_alloc(self, nbytes: int) -> _Allocation:
        return _Allocation(self, nbytes)

    def pagelocked_empty(self, shape: Any, dtype: Any) -> np.ndarray:
        context = self.current()
        array = np.empty(shape, dtype)
        self.allocations += 1
        weakref.finalize(array, self._release, context)
        return array

    def _release(self, context: Optional[_Context]) -> None:
        """pycuda frees pinned memory inside scoped_context_activation(context)."""
        if context is None or self.current() is context:
            return
        if threading.get_ident() != context.thread:
            self.refused_frees += 1
            self.warnings.append("PyCUDA WARNING: a clean-up operation failed (dead context "
                                 "maybe?)\ncannot activate out-of-thread context")

    def memcpy_htod_async(self, device: Any, host: np.ndarray, stream: Any) -> None:
        ctypes.memmove(int(device), host.ctypes.data, host.nbytes)

    def memcpy_dtoh_async(self, host: np.ndarray, device: Any, stream: Any) -> None:
        ctypes.memmove(host.ctypes.data, int(device), host.nbytes)
